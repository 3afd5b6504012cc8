"""Embedded backend figures: cold start (from the cached conversion, and from the GGUF file), first token, tokens/s.

Run: .venv/bin/python bench/embedded.py [--from-gguf]
Each figure is measured in this fresh process; --from-gguf also times the one-off GGUF conversion
in a throwaway data folder.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

started = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--from-gguf", action="store_true", help="also time the first-ever start (GGUF conversion)")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.db"

    import torch

    from core.llm import BackendSpec, complete, get_backend, stream

    figures: dict = {"torch_threads": torch.get_num_threads()}
    spec = BackendSpec(kind="embedded", model="SmolLM2-135M-Instruct")
    get_backend(spec)
    figures["cold_start_s"] = round(time.perf_counter() - started, 2)  # process start, imports and model load

    if args.from_gguf:
        from core.llm import embedded

        with tempfile.TemporaryDirectory() as scratch:
            os.environ["MERCURY_DATA_DIR"] = scratch
            t0 = time.perf_counter()
            embedded.prepare_embedded_model()
            figures["first_start_gguf_conversion_s"] = round(time.perf_counter() - t0, 2)
            del os.environ["MERCURY_DATA_DIR"]

    messages = [{"role": "user", "content": "Write a short, warm reply to a customer whose parcel arrived late."}]
    t0 = time.perf_counter()
    generator = stream(messages, spec=spec, max_tokens=16, temperature=0)
    next(generator)
    figures["first_token_s"] = round(time.perf_counter() - t0, 3)
    for _ in generator:
        pass

    rates = []
    for _ in range(3):
        completion = complete(messages, spec=spec, max_tokens=128, temperature=0.7)
        rates.append(completion.tokens_out / completion.latency_s)
    figures["tokens_per_s"] = round(sorted(rates)[1], 1)
    figures["tokens_per_s_runs"] = [round(r, 1) for r in rates]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
