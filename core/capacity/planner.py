"""GPUs, speed and cost for an estimate: how many GPUs of each kind hold it (tensor parallel), a
roofline speed, a month self-hosted against a hosted API, a fine-tuning run's time and cost, and
a measurement of a real model on this machine's GPU."""
from __future__ import annotations

import math
from dataclasses import dataclass

from core.capacity.memory import (
    CUDA_CONTEXT_GIB,
    FRAGMENTATION,
    TP_BUFFER_GIB,
    Architecture,
    Estimate,
    GiB,
    Workload,
    architecture_from_config,
    estimate,
    gpu_catalog,
    kv_bytes,
)
from core.errors import UserError
from core.i18n import Msg
from core.llm.openai_backend import api_cost_usd


def gpus_needed(est: Estimate, gpu: dict) -> int | None:
    """The smallest tensor-parallel degree (1, 2, 4, 8) whose per-GPU need fits, or None."""
    for tp in (1, 2, 4, 8):
        if est.arch.heads % tp == 0 and est.gpu_need_gib(tp) <= gpu["memory_gib"]:
            return tp
    return None


@dataclass
class Speed:
    decode_tokens_per_s: float  # per sequence
    throughput_tokens_per_s: float  # all sequences of the batch
    prefill_s: float
    request_latency_s: float
    requests_per_day: float


def roofline(est: Estimate, gpu: dict, tp: int, efficiency: float = 0.6) -> Speed:
    """Decode is bound by memory bandwidth (weights and KV read once per step); prefill by compute."""
    w = est.workload
    params = est.params
    active_share = params["active"] / params["total"]
    weight_bytes = est.breakdown["weights"] * active_share
    cache_bytes = kv_bytes(est.arch, w.batch, w.prompt + w.new // 2, w.kv_dtype)  # the average step reads half the new tokens' KV
    step_s = (weight_bytes + cache_bytes) / (tp * gpu["bandwidth_gbs"] * 1e9 * efficiency)
    prefill_s = 2 * params["active"] * w.batch * w.prompt / (tp * gpu["bf16_tflops"] * 1e12 * efficiency)
    latency = prefill_s + w.new * step_s
    return Speed(
        decode_tokens_per_s=1 / step_s,
        throughput_tokens_per_s=w.batch / step_s,
        prefill_s=prefill_s,
        request_latency_s=latency,
        requests_per_day=86_400 / latency * w.batch,
    )


@dataclass
class MonthlyCost:
    gpus: int
    gpu_hours: float
    rental_usd: float
    energy_kwh: float
    energy_usd: float
    self_hosted_usd: float
    api_usd: float | None
    api_model: str
    requests_per_month: float
    capacity_requests_per_month: float


HOURS_PER_MONTH = 730


def monthly_cost(
    est: Estimate,
    gpu: dict,
    tp: int,
    *,
    requests_per_day: float,
    utilisation: float = 0.6,
    kwh_price: float = 0.0,
    api_model: str = "gpt-4o-mini",
    efficiency: float = 0.6,
) -> MonthlyCost:
    """Self-hosted GPUs on all month (rental, plus energy at a utilisation when you pay for power)
    against a hosted API billed per token for the same requests."""
    speed = roofline(est, gpu, tp, efficiency)
    per_replica = speed.requests_per_day * utilisation * 30.4
    replicas = max(1, math.ceil(requests_per_day * 30.4 / per_replica)) if per_replica else 1
    gpus = replicas * tp
    gpu_hours = gpus * HOURS_PER_MONTH
    energy_kwh = gpus * gpu["power_w"] / 1000 * HOURS_PER_MONTH * utilisation
    requests = requests_per_day * 30.4
    api = api_cost_usd(api_model, int(requests * est.workload.prompt), int(requests * est.workload.new))
    return MonthlyCost(
        gpus=gpus,
        gpu_hours=gpu_hours,
        rental_usd=gpu_hours * gpu["price_per_hour"],
        energy_kwh=energy_kwh,
        energy_usd=energy_kwh * kwh_price,
        self_hosted_usd=gpu_hours * gpu["price_per_hour"] + energy_kwh * kwh_price,
        api_usd=api if api else None,
        api_model=api_model,
        requests_per_month=requests,
        capacity_requests_per_month=per_replica * replicas,
    )


def finetune_cost(est: Estimate, gpu: dict, tp: int, *, dataset_tokens: int, epochs: float = 1, mfu: float = 0.35) -> dict:
    """Time and money for a training run: 6 FLOPs per parameter per token for a full fine-tune,
    4 for LoRA and QLoRA (no weight gradients for the frozen weights), at a model FLOPs utilisation."""
    flops_per_token = (6 if est.workload.mode == "full" else 4) * est.params["active"]
    if est.workload.grad_checkpointing:
        flops_per_token += 2 * est.params["active"]  # the forward pass runs twice
    seconds = flops_per_token * dataset_tokens * epochs / (tp * gpu["bf16_tflops"] * 1e12 * mfu)
    hours = seconds / 3600
    return {"hours": hours, "gpus": tp, "cost_usd": hours * tp * gpu["price_per_hour"], "tokens": dataset_tokens * epochs, "mfu": mfu}


def breakeven_table(est: Estimate, gpu: dict, tp: int, *, api_model: str, max_requests_per_day: float, points: int = 40, **cost_options) -> list[dict]:
    """Monthly cost of both options as the daily request volume grows (for the break-even chart)."""
    rows = []
    for i in range(1, points + 1):
        volume = max_requests_per_day * i / points
        cost = monthly_cost(est, gpu, tp, requests_per_day=volume, api_model=api_model, **cost_options)
        rows.append({"requests_per_day": volume, "self_hosted_usd": cost.self_hosted_usd, "api_usd": cost.api_usd, "gpus": cost.gpus})
    return rows


def fit_table(est: Estimate, gpus: dict[str, dict]) -> list[dict]:
    """Per GPU kind: its memory, how many hold the workload (None: not even eight) and the need per GPU."""
    rows = []
    for name, gpu in gpus.items():
        tp = gpus_needed(est, gpu)
        rows.append({"gpu": name, "memory_gib": gpu["memory_gib"], "gpus_needed": tp, "per_gpu_need_gib": round(est.gpu_need_gib(tp or 1), 2)})
    return rows


def cheapest_fit(est: Estimate, gpus: dict[str, dict]) -> str | None:
    """The GPU kind whose needed count costs least per hour; None when none holds the workload."""
    usable = {name: gpus_needed(est, gpu) for name, gpu in gpus.items()}
    usable = {name: tp for name, tp in usable.items() if tp}
    return min(usable, key=lambda name: gpus[name]["price_per_hour"] * usable[name]) if usable else None


def plan(
    arch: Architecture,
    workload: Workload,
    *,
    gpu_name: str | None = None,
    requests_per_day: float | None = None,
    dataset_tokens: int | None = None,
    epochs: float = 1,
    gpus: dict[str, dict] | None = None,
) -> dict:
    """Everything the CLI prints and the page shows, as plain JSON-ready values."""
    est = estimate(arch, workload)
    gpus = gpus or gpu_catalog()
    out = {
        "model": arch.name,
        "mode": workload.mode,
        "dtype": workload.dtype,
        "params_b": round(est.params["total"] / 1e9, 3),
        "peak_gib": round(est.peak_gib, 2),
        "peak_phase": est.phase,
        "breakdown_gib": {k: round(v / GiB, 3) for k, v in est.breakdown.items()},
        "one_gpu_needs_gib": round(est.gpu_need_gib(1), 2),
        "assumptions": {"cuda_context_gib": CUDA_CONTEXT_GIB, "fragmentation": FRAGMENTATION, "tp_buffer_gib": TP_BUFFER_GIB},
        "fits": {name: gpus_needed(est, spec) for name, spec in gpus.items()},
    }
    if gpu_name:
        if gpu_name not in gpus:
            raise UserError(Msg("Unknown GPU '{gpu}': choose one of {choices}.", gpu=gpu_name, choices=", ".join(gpus)))
        gpu = gpus[gpu_name]
        tp = gpus_needed(est, gpu)
        out["gpu"] = {"name": gpu_name, **gpu, "gpus_needed": tp}
        if tp is None:
            out["gpu"]["note"] = f"Does not fit on 8 x {gpu_name}."
        elif workload.mode == "inference":
            speed = roofline(est, gpu, tp)
            out["speed"] = {k: round(v, 3) for k, v in speed.__dict__.items()}
            if requests_per_day:
                out["cost"] = {
                    k: (round(v, 2) if isinstance(v, float) else v) for k, v in monthly_cost(est, gpu, tp, requests_per_day=requests_per_day).__dict__.items()
                }
        elif dataset_tokens:
            out["cost"] = {
                k: round(v, 3) if isinstance(v, float) else v for k, v in finetune_cost(est, gpu, tp, dataset_tokens=dataset_tokens, epochs=epochs).items()
            }
    return out


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def measure_generation(model: str, *, batch: int = 1, prompt: int = 512, new: int = 128) -> dict:
    """Run the local model's `generate` on random token ids and report measured against estimated."""
    import time

    import torch
    from transformers import AutoModelForCausalLM

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    lm = AutoModelForCausalLM.from_pretrained(model, dtype=torch.bfloat16, attn_implementation="sdpa").cuda().eval()
    weights_gib = torch.cuda.memory_allocated() / GiB
    ids = torch.randint(0, lm.config.vocab_size, (batch, prompt), device="cuda")
    torch.cuda.synchronize()
    started = time.perf_counter()
    with torch.inference_mode():
        lm.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new, min_new_tokens=new, do_sample=False)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated() / GiB
    est = estimate(architecture_from_config(lm.config, name=model), Workload(batch=batch, prompt=prompt, new=new))
    del lm
    torch.cuda.empty_cache()
    return {
        "model": model,
        "batch": batch,
        "prompt": prompt,
        "new": new,
        "weights_gib": round(weights_gib, 2),
        "measured_peak_gib": round(peak, 2),
        "estimated_peak_gib": round(est.peak_gib, 2),
        "error_pct": round(100 * (est.peak_gib - peak) / peak, 1),
        "measured_tokens_per_s": round(batch * new / seconds, 1),
    }
