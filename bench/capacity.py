"""Capacity planner figures: estimated peak memory against every peak measured on a GPU that the
repository holds (tests/test_gpu.py's MEASURED: H100, transformers 5.17, torch 2.11), and the plans
the issue tried as a new user would, with their verdicts.

Run: .venv/bin/python bench/capacity.py
The measured cases are the ones the activation constants were fitted on, so their error guards the
fit; a GPU at hand measures more with `core.capacity.planner.measure_generation`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.capacity.advice import plan  # noqa: E402
from core.capacity.memory import Workload, estimate, load_architecture  # noqa: E402
from core.i18n import render  # noqa: E402
from tests.test_gpu import MEASURED  # noqa: E402

PLANS = [
    ("Llama-3.3-70B", Workload(batch=8, prompt=1024, new=256), "RTX 4090 24GB", 5000),
    ("Llama-3.3-70B", Workload(batch=8, prompt=1024, new=256), None, 50_000),
    ("Llama-3.3-70B", Workload(dtype="awq", batch=4, prompt=1024, new=256), "Apple M2 Ultra 192GB", 500),
    ("Llama-3.1-8B", Workload(batch=16, prompt=1024, new=256), None, 20_000),
    ("Qwen3-30B-A3B", Workload(batch=16, prompt=2048, new=512), "L40S 48GB", 20_000),
    ("DeepSeek-V3", Workload(dtype="fp8", batch=16, prompt=2048, new=512), "H200 141GB", 100_000),
]


def main() -> None:
    print("peak memory, estimated against measured (GiB):")
    worst = 0.0
    for model, workload, measured in MEASURED:
        estimated = estimate(load_architecture(model=model), workload).peak_gib
        error = 100 * (estimated - measured) / measured
        worst = max(worst, abs(error))
        shape = f"{workload.mode} batch {workload.batch} " + (
            f"prompt {workload.prompt} new {workload.new}" if workload.mode == "inference" else f"seq {workload.seq}"
        )
        print(f"  {model:<14} {shape:<34} {estimated:7.2f} {measured:7.2f}  {error:+5.1f}%")
    print(f"  worst error {worst:.1f}% over {len(MEASURED)} measured cases")
    print()
    for model, workload, gpu, requests in PLANS:
        result = plan(load_architecture(model=model), workload, gpu_name=gpu, requests_per_day=requests)
        print(f"{model} on {gpu or 'the best value GPU'} at {requests:,} requests a day:")
        print("  " + " ".join(render(sentence) for sentence in result["verdict"]))
        print(f"  break-even {result['break_even_requests_per_day']} requests a day; vLLM holds {result['max_concurrent_sequences']} at once")
        if result["vllm_args"]:
            print("  " + " ".join(result["vllm_args"]))
        print()


if __name__ == "__main__":
    main()
