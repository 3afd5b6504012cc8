"""GPUs, speed and cost for an estimate: how many GPUs of each kind hold it (tensor parallel), a
roofline speed, a month self-hosted against a hosted API, a fine-tuning run's time and cost, and
a measurement of a real model on this machine's GPU."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.capacity.hosted import Offer, break_even_per_day
from core.capacity.memory import Estimate, GiB, Workload, architecture_from_config, estimate, kv_bytes
from core.capacity.serving import hourly_usd, is_unified, link_scaling, tensor_parallel_degrees


def gpus_needed(est: Estimate, gpu: dict) -> int | None:
    """The smallest tensor-parallel degree (1, 2, 4, 8; 1 for a unified-memory machine) whose per-GPU need fits, or None."""
    for tp in tensor_parallel_degrees(gpu):
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
    link_scaling: float  # share of the ideal tensor-parallel speed-up the GPUs' link keeps


def read_share(arch, params: dict[str, int], batch: int) -> float:
    """Share of the weights one decoding step reads. A dense model reads all of them; a mixture of
    experts reads the shared weights and, of each layer's experts, those any of the batch's tokens
    chose: 1 - (1 - k/E)^batch of them when tokens choose independently."""
    if arch.experts == 1:
        return 1.0
    chosen = 1 - (1 - arch.experts_per_token / arch.experts) ** batch
    return (params["total"] - params["routed"] + params["routed"] * chosen) / params["total"]


def roofline(est: Estimate, gpu: dict, tp: int, efficiency: float = 0.6) -> Speed:
    """Decode is bound by memory bandwidth (the weights a step needs and the KV read once per step); prefill by compute.
    Tensor parallelism over PCIe keeps only a share of the tp-times speed-up (see serving.py)."""
    w = est.workload
    params = est.params
    weight_bytes = est.breakdown["weights"] * read_share(est.arch, params, w.batch)
    cache_bytes = kv_bytes(est.arch, w.batch, w.prompt + w.new // 2, w.kv_dtype)  # the average step reads half the new tokens' KV
    scaling = link_scaling(gpu, tp)
    step_s = (weight_bytes + cache_bytes) / (tp * scaling * gpu["bandwidth_gbs"] * 1e9 * efficiency)
    prefill_s = 2 * params["active"] * w.batch * w.prompt / (tp * scaling * gpu["bf16_tflops"] * 1e12 * efficiency)
    latency = prefill_s + w.new * step_s
    return Speed(
        decode_tokens_per_s=1 / step_s,
        throughput_tokens_per_s=w.batch / step_s,
        prefill_s=prefill_s,
        request_latency_s=latency,
        requests_per_day=86_400 / latency * w.batch,
        link_scaling=scaling,
    )


@dataclass
class MonthlyCost:
    gpus: int
    gpu_hours: float
    rental_usd: float  # the GPUs, and the server a consumer plan beyond two cards needs
    energy_kwh: float
    energy_usd: float
    self_hosted_usd: float
    api_usd: float | None
    api_model: str
    requests_per_month: float
    capacity_requests_per_month: float
    break_even_requests_per_day: float | None


HOURS_PER_MONTH = 730


def monthly_cost(
    est: Estimate,
    gpu: dict,
    tp: int,
    *,
    requests_per_day: float,
    utilisation: float = 0.6,
    kwh_price: float = 0.0,
    offer: Offer | None = None,
    efficiency: float = 0.6,
) -> MonthlyCost:
    """Self-hosted GPUs on all month (rental, plus energy at a utilisation when you pay for power),
    as many sets of tp GPUs as the volume needs, against a hosted offer billed per request."""
    speed = roofline(est, gpu, tp, efficiency)
    per_replica = speed.requests_per_day * utilisation * 30.4
    replicas = max(1, math.ceil(requests_per_day * 30.4 / per_replica)) if per_replica else 1
    replica_kwh = tp * gpu["power_w"] / 1000 * HOURS_PER_MONTH * utilisation
    replica_usd = hourly_usd(gpu, tp) * HOURS_PER_MONTH + replica_kwh * kwh_price
    requests = requests_per_day * 30.4
    return MonthlyCost(
        gpus=replicas * tp,
        gpu_hours=replicas * tp * HOURS_PER_MONTH,
        rental_usd=replicas * hourly_usd(gpu, tp) * HOURS_PER_MONTH,
        energy_kwh=replicas * replica_kwh,
        energy_usd=replicas * replica_kwh * kwh_price,
        self_hosted_usd=replicas * replica_usd,
        api_usd=offer.usd_per_request * requests if offer else None,
        api_model=offer.label if offer else "",
        requests_per_month=requests,
        capacity_requests_per_month=per_replica * replicas,
        break_even_requests_per_day=break_even_per_day(replica_usd, per_replica, offer.usd_per_request) if offer else None,
    )


def finetune_cost(est: Estimate, gpu: dict, tp: int, *, dataset_tokens: int, epochs: float = 1, mfu: float = 0.35) -> dict:
    """Time and money for a training run: 6 FLOPs per parameter per token for a full fine-tune,
    4 for LoRA and QLoRA (no weight gradients for the frozen weights), at a model FLOPs utilisation."""
    flops_per_token = (6 if est.workload.mode == "full" else 4) * est.params["active"]
    if est.workload.grad_checkpointing:
        flops_per_token += 2 * est.params["active"]  # the forward pass runs twice
    seconds = flops_per_token * dataset_tokens * epochs / (tp * link_scaling(gpu, tp) * gpu["bf16_tflops"] * 1e12 * mfu)
    hours = seconds / 3600
    return {"hours": hours, "gpus": tp, "cost_usd": hours * hourly_usd(gpu, tp), "tokens": dataset_tokens * epochs, "mfu": mfu}


def breakeven_table(est: Estimate, gpu: dict, tp: int, *, offer: Offer, max_requests_per_day: float, points: int = 40, **cost_options) -> list[dict]:
    """Monthly cost of both options as the daily request volume grows (for the break-even chart)."""
    rows = []
    for i in range(1, points + 1):
        volume = max_requests_per_day * i / points
        cost = monthly_cost(est, gpu, tp, requests_per_day=volume, offer=offer, **cost_options)
        rows.append({"requests_per_day": volume, "self_hosted_usd": cost.self_hosted_usd, "api_usd": cost.api_usd, "gpus": cost.gpus})
    return rows


def fit_table(est: Estimate, gpus: dict[str, dict]) -> list[dict]:
    """Per GPU kind: its memory, how many hold the workload (None: not even eight) and the need per GPU."""
    rows = []
    for name, gpu in gpus.items():
        tp = gpus_needed(est, gpu)
        rows.append({"gpu": name, "memory_gib": gpu["memory_gib"], "gpus_needed": tp, "per_gpu_need_gib": round(est.gpu_need_gib(tp or 1), 2)})
    return rows


def work_cost(est: Estimate, gpu: dict, tp: int) -> float:
    """Dollars per unit of work on tp GPUs of this kind: per request served (inference) or per
    training FLOP, so a cheap card that serves slowly does not pass for a bargain."""
    if est.workload.mode == "inference":
        return hourly_usd(gpu, tp) / roofline(est, gpu, tp).requests_per_day
    return hourly_usd(gpu, tp) / (tp * link_scaling(gpu, tp) * gpu["bf16_tflops"])


def cheapest_fit(est: Estimate, gpus: dict[str, dict]) -> str | None:
    """The data-centre or consumer GPU kind that does the work for the least money (with any server
    it needs); None when none holds the workload. Unified-memory machines are chosen, not proposed."""
    usable = {name: gpus_needed(est, gpu) for name, gpu in gpus.items() if not is_unified(gpu)}
    usable = {name: tp for name, tp in usable.items() if tp}
    return min(usable, key=lambda name: work_cost(est, gpus[name], usable[name])) if usable else None


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
