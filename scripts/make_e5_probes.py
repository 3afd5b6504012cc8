"""Write core/assets/e5_probes.json: a few texts in Mercury's languages and their in-process
multilingual-e5-small query vectors, against which an embeddings server is checked
(core/models/remote.py). Run again whenever core/models/e5.py changes; tests/test_embeddings_server.py
fails while the file and the in-process model disagree.

Run: .venv/bin/python scripts/make_e5_probes.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXTS = [
    "The earbuds stopped charging after two days, very disappointed.",
    "Livrarea a fost rapidă, produsul arată exact ca în poze.",
    "Obsługa klienta nie odpowiada od tygodnia, fatalnie.",
    "物流很快，包装完好，音质超出预期。",
    "Where is my order 48213? It is two weeks late.",
]


def main() -> None:
    from core.models.encoders import E5Encoder
    from core.models.remote import PROBES_FILE

    vectors = E5Encoder().encode(TEXTS)
    PROBES_FILE.write_text(json.dumps({"texts": TEXTS, "vectors": [[round(float(x), 6) for x in row] for row in vectors]}, ensure_ascii=False) + "\n")
    print(f"wrote {PROBES_FILE.relative_to(ROOT)}: {len(TEXTS)} probes")


if __name__ == "__main__":
    main()
