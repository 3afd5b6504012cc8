"""How GPUs are linked and housed, and the vLLM command that serves a plan.

Tensor parallelism splits every layer across the GPUs and adds two all-reduces per layer. Over
NVLink (SXM data-centre boards) that costs little; over PCIe it costs a share of the speed that
grows with the number of GPUs. PCIE_TP_SCALING is that share of the ideal tp-times speed-up, from
published measurements (cited in the README): NVIDIA's H200 measurement of TP=2 with and without
NVSwitch (up to 1.5x faster with it), and a vLLM measurement on four RTX 3090s (an NVLinked pair
served TP=2 25% to 53% faster than a pair over PCIe; TP=4 over PCIe was slower than TP=2). An
NVLinked pair reaching about 0.9 of the ideal, PCIe keeps about 0.7 of that at TP=2 (0.63); TP=4
below half of TP=2's share (0.3, so slower than TP=2, as measured); TP=8 is extrapolated (0.18).

A consumer board (RTX) fits two to a desktop; three or more need a multi-GPU server, priced here
on top of the cards. Unified-memory machines (Apple M-series) are one box whose GPU reads the
machine's memory; they are never split.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from core.capacity.memory import CUDA_CONTEXT_GIB, PREFILL_HIDDEN_VECTORS, PREFILL_INTERMEDIATE_VECTORS, TP_BUFFER_GIB, Estimate, GiB, kv_bytes
from core.i18n import Msg

# Share of the ideal tensor-parallel speed reached over PCIe, by tensor-parallel degree.
PCIE_TP_SCALING = {1: 1.0, 2: 0.63, 4: 0.3, 8: 0.18}
CONSUMER_CARDS_PER_BOX = 2
# An 8-slot PCIe GPU server without its cards (CPU, memory, board with x16 slots, power supplies),
# about $9,000, over 36 months of 730 hours.
SERVER_USD_PER_HOUR = round(9000 / (36 * 730), 2)

# vLLM's defaults: the share of each GPU's memory it takes, the tokens of its profiling step, and
# the CUDA graphs it captures for decoding.
VLLM_MEMORY_UTILISATION = 0.9
VLLM_PROFILE_TOKENS = 8192
VLLM_CUDA_GRAPHS_GIB = 1.0
VLLM_MAX_NUM_SEQS = 256
QUANTISATION_FLAGS = {
    "fp8": ["--quantization", "fp8"],
    "int8": ["--quantization", "bitsandbytes"],
    "nf4": ["--quantization", "bitsandbytes"],
    "awq": ["--quantization", "awq"],
    "gptq": ["--quantization", "gptq"],
    "fp16": ["--dtype", "float16"],
    "fp32": ["--dtype", "float32"],
}


def is_unified(gpu: dict) -> bool:
    return gpu.get("kind") == "unified"


def tensor_parallel_degrees(gpu: dict) -> tuple[int, ...]:
    return (1,) if is_unified(gpu) else (1, 2, 4, 8)


def link_scaling(gpu: dict, tp: int) -> float:
    """The share of the ideal tp-times speed-up this GPU kind keeps at tensor-parallel degree tp."""
    if tp == 1 or gpu.get("link") == "nvlink":
        return 1.0
    return PCIE_TP_SCALING[tp]


def needs_server(gpu: dict, tp: int) -> bool:
    return gpu.get("kind") == "consumer" and tp > CONSUMER_CARDS_PER_BOX


def hourly_usd(gpu: dict, tp: int) -> float:
    """What tp GPUs of this kind cost an hour, with the server a consumer plan beyond two cards needs."""
    return tp * gpu["price_per_hour"] + (SERVER_USD_PER_HOUR if needs_server(gpu, tp) else 0.0)


def housing_notes(gpu_name: str, gpu: dict, tp: int) -> list[Msg]:
    """What a person should know about how tp GPUs of this kind are linked and housed."""
    notes = []
    if needs_server(gpu, tp):
        notes.append(
            Msg(
                "{count} {gpu} cards do not fit in a desktop: they need a multi-GPU server, priced at ${usd} an hour on top of the cards.",
                count=tp,
                gpu=gpu_name,
                usd=SERVER_USD_PER_HOUR,
            )
        )
    if tp > 1 and gpu.get("link") != "nvlink":
        notes.append(
            Msg(
                "Linked over PCIe, {count} GPUs reach about {percent}% of {count} times one GPU's speed (tensor parallelism waits on every layer's exchange).",
                count=tp,
                percent=round(100 * link_scaling(gpu, tp)),
            )
        )
    return notes


@dataclass
class ServingPlan:
    tensor_parallel: int
    max_model_len: int
    max_concurrent_sequences: int
    kv_cache_gib_per_gpu: float
    args: list[str] = field(default_factory=list)
    notes: list[Msg] = field(default_factory=list)

    @property
    def starts(self) -> bool:
        return self.max_concurrent_sequences >= 1


def _kv_per_sequence_per_gpu(est: Estimate, length: int, tp: int) -> float:
    arch = est.arch
    if arch.kv_lora_rank:  # MLA's latent is not split by heads: vLLM keeps it whole on every GPU
        return kv_bytes(arch, 1, length, est.workload.kv_dtype)
    # Each GPU keeps its share of the KV heads; with fewer KV heads than GPUs, whole heads repeated.
    return kv_bytes(arch, 1, length, est.workload.kv_dtype) / min(tp, arch.kv_heads)


def vllm_plan(est: Estimate, gpu: dict, tp: int) -> ServingPlan:
    """The vLLM flags that serve this workload on tp GPUs, and how many requests its KV cache then holds."""
    arch, work = est.arch, est.workload
    length = min(math.ceil((work.prompt + work.new) / 1024) * 1024, arch.max_context or 10**9)
    profile = 2 * VLLM_PROFILE_TOKENS * (PREFILL_INTERMEDIATE_VECTORS * arch.active_intermediate + PREFILL_HIDDEN_VECTORS * arch.hidden) / tp
    taken = est.breakdown["weights"] / tp + profile + (CUDA_CONTEXT_GIB + VLLM_CUDA_GRAPHS_GIB + (TP_BUFFER_GIB if tp > 1 else 0)) * GiB
    kv_budget = max(0.0, gpu["memory_gib"] * GiB * VLLM_MEMORY_UTILISATION - taken)
    concurrent = int(kv_budget // _kv_per_sequence_per_gpu(est, length, tp))
    notes = []
    if is_unified(gpu):
        notes.append(Msg("vLLM does not run on Apple GPUs: serve the model with llama.cpp or MLX, which read the same weights."))
        return ServingPlan(tp, length, concurrent, round(kv_budget / GiB, 2), [], notes)
    model = arch.hf_id or arch.name
    args = ["vllm", "serve", model, "--tensor-parallel-size", str(tp), "--max-model-len", str(length)]
    args += ["--gpu-memory-utilization", str(VLLM_MEMORY_UTILISATION), "--max-num-seqs", str(max(1, min(concurrent, VLLM_MAX_NUM_SEQS)))]
    args += QUANTISATION_FLAGS.get(work.dtype, [])
    if work.dtype in ("awq", "gptq"):
        notes.append(
            Msg("vLLM reads {format} weights from a checkpoint quantised that way: serve its {format} version of the model.", format=work.dtype.upper())
        )
    if work.dtype in ("q4_k_m", "q8_0"):
        notes.append(Msg("GGUF weights are served by llama.cpp; vLLM reads them only partly, so prefer AWQ or GPTQ for vLLM."))
    if work.kv_dtype in ("fp8", "int8"):
        args += ["--kv-cache-dtype", "fp8"]
    if concurrent < 1:
        notes.append(Msg("vLLM would not start: after the weights, no room is left for one request of {tokens} tokens.", tokens=length))
    elif concurrent < work.batch:
        notes.append(
            Msg("The KV cache holds {held} requests at once, fewer than the {asked} asked: vLLM queues the others.", held=concurrent, asked=work.batch)
        )
    return ServingPlan(tp, length, concurrent, round(kv_budget / GiB, 2), args, notes)
