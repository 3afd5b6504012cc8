"""End to end against the encoder: `python -m core sentiment` on N distinct short reviews in a fresh
process and a fresh database (start-up, model load, reading, storing, language, themes and the
summary included), beside the encoder alone on the same texts in a fresh process (import and load
included). The goal (#29) is an end-to-end rate of at least 85% of the encoder's.

Run: .venv/bin/python bench/throughput.py [--rows 2000] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENCODER_ONLY = """
import sys, time, csv
start = time.perf_counter()
import torch
torch.set_num_threads(int(sys.argv[2]))
from core.models.encoders import encoder
texts = [row["review"] for row in csv.DictReader(open(sys.argv[1], encoding="utf-8"))]
encoder().encode(texts)
print(time.perf_counter() - start)
"""


def reviews(path: Path, n: int) -> None:
    words = ["battery", "strap", "screen", "delivery", "case", "sound", "charger", "app", "price", "support"]
    moods = ["broke after a week", "works perfectly", "arrived late and damaged", "is great value", "stopped working", "feels cheap"]
    lines = [f"Review {i}: the {words[i % 10]} {moods[i % 6]}, {i % 97} stars from me." for i in range(n)]
    path.write_text("review\n" + "\n".join(f'"{line}"' for line in lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reviews.csv"
        reviews(path, args.rows)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "MERCURY_DATA_DIR": str(ROOT / "data"), "OMP_NUM_THREADS": str(args.threads)}
        encoder_s = float(
            subprocess.run([sys.executable, "-c", ENCODER_ONLY, str(path), str(args.threads)], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
            .stdout.split()[-1]
        )
        env["DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "core", "sentiment", str(path), "--json"], cwd=ROOT, env=env, capture_output=True, text=True)
        end_to_end_s = time.perf_counter() - start
        if done.returncode:
            sys.exit(done.stderr)
    figures = {
        "rows": args.rows,
        "threads": args.threads,
        "encoder_only_s": round(encoder_s, 1),
        "encoder_rows_per_s": round(args.rows / encoder_s),
        "end_to_end_s": round(end_to_end_s, 1),
        "end_to_end_rows_per_s": round(args.rows / end_to_end_s),
        "share_of_encoder_rate": round(encoder_s / end_to_end_s, 2),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
