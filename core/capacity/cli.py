"""`python -m core gpu`: the capacity plan of a model on GPUs, its verdict first."""

from __future__ import annotations

import argparse
import json

from core.capacity.advice import DEFAULT_CACHED_SHARE, default_checkpointing, plan, verdict_text
from core.capacity.memory import Workload, gpu_catalog, load_architecture
from core.i18n import LANGUAGES, default_language, rendered


def cmd_gpu(args: argparse.Namespace) -> int:
    arch = load_architecture(model=args.model, config_path=args.config)
    checkpointing = args.grad_checkpointing
    if checkpointing is None:
        checkpointing = default_checkpointing(args.mode, gpu_catalog().get(args.gpu or ""))
    workload = Workload(
        mode=args.mode,
        dtype=args.dtype,
        kv_dtype=args.kv_dtype,
        batch=args.batch,
        prompt=args.prompt,
        new=args.new,
        seq=args.seq,
        lora_r=args.lora_r,
        lora_targets=tuple(t.strip() for t in args.lora_targets.split(",") if t.strip()),
        grad_checkpointing=checkpointing,
        mixed_precision=args.mixed_precision,
    )
    result = plan(
        arch,
        workload,
        gpu_name=args.gpu,
        requests_per_day=args.requests_per_day,
        dataset_tokens=args.dataset_tokens,
        epochs=args.epochs,
        cached_share=args.cached_share,
    )
    language = args.language
    result = rendered({**result, "verdict": verdict_text(result["verdict"], language)}, language)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(result["verdict"])
    print()
    print(f"{result['model']} ({result['params_b']} B parameters), {workload.mode}, {workload.dtype}: peak {result['peak_gib']} GiB at {result['peak_phase']}")
    for kind, gib in result["breakdown_gib"].items():
        if gib:
            print(f"  {kind:<17} {gib:>9.2f} GiB")
    print(f"one GPU needs {result['one_gpu_needs_gib']} GiB with CUDA context and fragmentation")
    for option in result["options"]:
        print(f"option: {option['change']}: {option['gpus_needed']} x {option['gpu']}, peak {option['peak_gib']} GiB")
    for offer in result["hosted"]:
        print(f"hosted: {offer['label']}, ${offer['usd_per_1000_requests']} per 1,000 requests")
    if result["vllm_args"]:
        print("serve: " + " ".join(f"'{arg}'" if " " in arg else arg for arg in result["vllm_args"]))
    return 0


def register(commands) -> None:
    gpu = commands.add_parser("gpu", help="GPU memory, GPUs needed, speed and cost of serving or fine-tuning a model, with a verdict")
    source = gpu.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", help="a transformers config.json of any causal LM")
    source.add_argument("--model", help="a model of the catalog, e.g. Llama-3.1-8B")
    gpu.add_argument("--mode", choices=["inference", "full", "lora", "qlora"], default="inference")
    gpu.add_argument("--dtype", default="bf16", help="weights: fp32, bf16, fp16, fp8, int8, nf4, awq, gptq, q4_k_m, q8_0")
    gpu.add_argument("--kv-dtype", default="bf16", help="KV cache: fp32, bf16, fp16, fp8, int8")
    gpu.add_argument("--batch", type=int, default=1, help="sequences at once (concurrent users when serving)")
    gpu.add_argument("--prompt", type=int, default=512, help="prompt tokens (inference)")
    gpu.add_argument("--new", type=int, default=128, help="generated tokens (inference)")
    gpu.add_argument("--seq", type=int, default=1024, help="sequence length (training)")
    gpu.add_argument("--lora-r", type=int, default=16)
    gpu.add_argument("--lora-targets", default="q,k,v,o", help="comma-separated: q,k,v,o,gate,up,down")
    gpu.add_argument(
        "--grad-checkpointing",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="default: on for qlora, and for lora on a --gpu of 24 GB or less; off otherwise",
    )
    gpu.add_argument("--mixed-precision", action="store_true", help="full fine-tune with fp32 master weights")
    gpu.add_argument("--gpu", help="a GPU of the catalog, e.g. 'H100 80GB' (default: the one that does the work for least money)")
    gpu.add_argument("--requests-per-day", type=float, help="serving workload for the monthly cost")
    gpu.add_argument(
        "--cached-share",
        type=float,
        default=DEFAULT_CACHED_SHARE,
        help=f"share of each prompt that repeats and APIs bill as cached input (default {DEFAULT_CACHED_SHARE})",
    )
    gpu.add_argument("--dataset-tokens", type=int, help="training tokens per epoch for the fine-tuning cost")
    gpu.add_argument("--epochs", type=float, default=1)
    gpu.add_argument("--language", choices=list(LANGUAGES), default=default_language(), help="the language of the verdict: en, ro, pl or zh")
    gpu.add_argument("--json", action="store_true")
    gpu.set_defaults(handler=cmd_gpu)
