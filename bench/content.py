"""Content figures: three X variants on the embedded backend, their limits and how much they differ.

Run: taskset -c 0,1 .venv/bin/python bench/content.py [--topics N]
For each topic, the time to write three X variants in this process (model already loaded, as in
the app), the longest variant against the 280-character limit, and the highest MiniLM cosine
similarity between two variants of the same request (1.0 would be identical).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TOPICS = [
    "Pulse earbuds: 30 hours of battery in a pocket-size case",
    "Spring sale: 20% off every headset this weekend",
    "Our new store in Leeds opens on Saturday with free demos",
    "Student discount on all earbuds",
    "How to pair your earbuds in five seconds",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topics", type=int, default=len(TOPICS))
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    import numpy as np

    from core.brand import read_brand_file
    from core.content.brief import Brief
    from core.content.writing import generate
    from core.llm import get_backend, resolve_spec
    from core.models.encoders import encoder

    brand = read_brand_file(ROOT / "sample_data" / "brand.json")
    started = time.perf_counter()
    get_backend(resolve_spec("embedded"))
    encoder()
    load_s = time.perf_counter() - started
    runs = []
    for topic in TOPICS[: args.topics]:
        started = time.perf_counter()
        variants = generate(Brief(kind="social", platform="x", topic=topic, variants=3), brand)
        seconds = time.perf_counter() - started
        vectors = encoder().encode([v.text for v in variants])
        similarity = vectors @ vectors.T
        runs.append({
            "topic": topic,
            "seconds": round(seconds, 1),
            "longest_chars": max(len(v.text) for v in variants),
            "max_pair_similarity": round(float(similarity[np.triu_indices(3, 1)].max()), 3),
            "distinct": len({v.text for v in variants}),
            "repairs": [v.notes for v in variants],
        })
    print(json.dumps({
        "model_load_s": round(load_s, 1),
        "three_x_variants_s_max": max(r["seconds"] for r in runs),
        "three_x_variants_s_mean": round(sum(r["seconds"] for r in runs) / len(runs), 1),
        "longest_variant_chars": max(r["longest_chars"] for r in runs),
        "max_pair_similarity": max(r["max_pair_similarity"] for r in runs),
        "runs": runs,
    }, indent=2))


if __name__ == "__main__":
    main()
