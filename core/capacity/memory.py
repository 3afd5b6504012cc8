"""GPU memory, GPU count, speed and monthly cost for serving or fine-tuning a transformers causal LM.

Memory is modelled by which tensors are alive at the peak, as plain transformers code allocates
them (bf16 weights, sdpa attention, torch AdamW with states in the parameters' dtype, `generate`
with greedy decoding), so `peak_gib` is comparable with `torch.cuda.max_memory_allocated`:

- inference: weights + KV cache of the prompt + the prefill's transient activations of one layer
  (about 2.44 intermediate-size and 7 hidden-size bf16 vectors per token: the gate and up
  projections and the residual, normalisation and attention tensors) + last-token logits in fp32;
  decoding adds the new tokens' KV cache but only one token's activations, so the peak is the
  larger of the two phases;
- training: weights + optimizer states + every layer's saved activations (about 8.1 hidden-size
  and 4 intermediate-size bf16 vectors per token per layer without checkpointing: norms in fp32,
  q/k/v, RoPE, attention output, gate, up, activation and their product) + the logits kept for the
  loss (about 13.4 bytes per token per vocabulary entry: bf16 logits, the fp32 copy, log-softmax
  and its gradient). Weight gradients arrive while activations are freed, so the backward pass
  peaks before they add up; the optimizer step (weights + gradients + states + a foreach
  temporary) is the other candidate peak. With gradient checkpointing only each layer's input is
  kept, and the backward pass peaks either in the loss's backward (the logits) or while one layer
  is rebuilt (its activations beside the returned bf16 logits), whichever is larger; no
  checkpointed run was measured on a GPU here.

The per-token constants were derived from measurements of Llama-3.2-1B and Qwen2.5-7B shapes on an
H100 (transformers 5.17, torch 2.11); tests/test_gpu.py checks the estimate against every one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import UserError
from core.i18n import Msg
from core.ingest import read_json_file

GiB = 1024**3
ASSETS = Path(__file__).resolve().parent.parent / "assets"

# Bytes per parameter of the quantised linear layers (scales and zero points included) and whether
# embeddings and the LM head stay in 16-bit, as the quantisation libraries leave them.
WEIGHT_FORMATS: dict[str, tuple[float, bool]] = {
    "fp32": (4.0, False),
    "bf16": (2.0, False),
    "fp16": (2.0, False),
    "fp8": (1.0 + 4 / 4096, True),  # per-tensor or per-block fp32 scales
    "int8": (1.0 + 2 / 4096, True),  # LLM.int8 row scales
    "nf4": (0.5 + 0.127 / 8, True),  # bitsandbytes 4-bit with double-quantised absmax
    "awq": (0.5 + 2.5 / 128, True),  # int4, group 128: fp16 scale + 4-bit zero point per group
    "gptq": (0.5 + 2.5 / 128, True),
    "q4_k_m": (4.85 / 8, False),  # GGUF mixes Q4_K and Q6_K blocks: 4.85 bits per weight on average
    "q8_0": (8.5 / 8, False),
}
KV_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0}

# Per-token activation constants (see the module docstring): prefill of one layer, and training.
PREFILL_INTERMEDIATE_VECTORS = 2.44
PREFILL_HIDDEN_VECTORS = 7.0
TRAIN_HIDDEN_VECTORS = 8.13
TRAIN_INTERMEDIATE_VECTORS = 4.0
TRAIN_LOGIT_BYTES = 13.4
# What a process needs beyond its tensors: CUDA context and kernels, plus allocator fragmentation.
CUDA_CONTEXT_GIB = 0.6
FRAGMENTATION = 0.05
# Tensor parallelism: communication buffers each extra GPU needs.
TP_BUFFER_GIB = 0.4


@dataclass(frozen=True)
class Architecture:
    name: str
    model_type: str
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    tied: bool
    experts: int = 1
    experts_per_token: int = 1
    sliding_window: int | None = None
    sliding_layers: int = 0
    qkv_bias: bool = False
    norms_per_layer: int = 2
    qk_norm: bool = False  # a norm over each head's queries and keys (Qwen 3, Gemma 3)
    max_context: int | None = None  # max_position_embeddings: the longest sequence the model reads
    hf_id: str = ""  # the Hub id a server loads (vllm serve ...), when known
    # Mixture of experts beyond Mixtral: each expert's own size, shared experts every token runs, and
    # the first layers that keep a dense MLP (DeepSeek's first_k_dense_replace, Qwen's mlp_only_layers).
    expert_intermediate: int = 0
    shared_intermediate: int = 0
    shared_gate: bool = False
    dense_layers: int = 0
    # Multi-head latent attention (DeepSeek): keys and values come from a compressed latent of
    # kv_lora_rank plus a shared RoPE key, which is all transformers and vLLM cache.
    kv_lora_rank: int = 0
    q_lora_rank: int = 0
    qk_rope_dim: int = 0
    qk_nope_dim: int = 0
    v_head_dim: int = 0

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    @property
    def q_dim(self) -> int:
        return self.heads * self.head_dim

    @property
    def kv_width(self) -> int:
        """Numbers a layer's cache keeps per token in transformers (keys and values)."""
        if self.kv_lora_rank:  # the compressed latent and the shared RoPE key (measured in tests/test_gpu.py)
            return self.kv_lora_rank + self.qk_rope_dim
        return 2 * self.kv_dim

    @property
    def active_intermediate(self) -> int:
        """MLP width a token runs through: the chosen experts and the shared ones, or the dense MLP."""
        if self.experts == 1:
            return self.intermediate
        return (self.expert_intermediate or self.intermediate) * self.experts_per_token + self.shared_intermediate

    def _attention(self) -> int:
        if self.kv_lora_rank:
            qk = self.qk_nope_dim + self.qk_rope_dim
            q = self.hidden * self.q_lora_rank + self.q_lora_rank + self.q_lora_rank * self.heads * qk if self.q_lora_rank else self.hidden * self.heads * qk
            kv = self.hidden * (self.kv_lora_rank + self.qk_rope_dim) + self.kv_lora_rank  # kv_a_proj and its norm
            kv += self.kv_lora_rank * self.heads * (self.qk_nope_dim + self.v_head_dim)  # kv_b_proj
            return q + kv + self.heads * self.v_head_dim * self.hidden
        return self.hidden * self.q_dim * 2 + self.hidden * self.kv_dim * 2 + ((self.q_dim + 2 * self.kv_dim) if self.qkv_bias else 0)

    def params(self) -> dict[str, int]:
        attention = self._attention()
        dense = 3 * self.hidden * self.intermediate
        moe_layers = self.layers - self.dense_layers if self.experts > 1 else 0
        expert = 3 * self.hidden * (self.expert_intermediate or self.intermediate)
        shared = 3 * self.hidden * self.shared_intermediate + (self.hidden if self.shared_gate else 0) + self.hidden * self.experts
        norms = self.norms_per_layer * self.hidden + (2 * self.head_dim if self.qk_norm else 0)
        embed = self.vocab * self.hidden
        head = 0 if self.tied else self.vocab * self.hidden
        linear = self.layers * attention + (self.layers - moe_layers) * dense + moe_layers * (expert * self.experts + shared)
        active = self.layers * attention + (self.layers - moe_layers) * dense + moe_layers * (expert * self.experts_per_token + shared)
        return {
            "embedding": embed,
            "lm_head": head,
            "linear": linear,
            "norms": self.layers * norms + self.hidden,
            "total": embed + head + linear + self.layers * norms + self.hidden,
            "active": embed + head + active + self.layers * norms + self.hidden,
            "routed": moe_layers * expert * self.experts,  # the experts' weights, which a token reads only k of
        }


def _text_config(config):
    return getattr(config, "text_config", None) or config


def architecture_from_config(config, name: str = "") -> Architecture:
    """An Architecture from a transformers config object (any causal LM with the usual fields)."""
    cfg = _text_config(config)
    try:
        hidden = int(cfg.hidden_size)
        heads = int(cfg.num_attention_heads)
        layers = int(cfg.num_hidden_layers)
        intermediate = int(getattr(cfg, "intermediate_size", None) or getattr(cfg, "ffn_dim", None) or 4 * hidden)
        vocab = int(cfg.vocab_size)
    except (AttributeError, TypeError) as error:
        raise UserError(Msg("The config lacks a field every causal LM has ({field}).", field=str(error))) from error
    kv_heads = int(getattr(cfg, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(cfg, "head_dim", None) or hidden // heads)
    layer_types = list(getattr(cfg, "layer_types", None) or [])
    window = getattr(cfg, "sliding_window", None)
    sliding = sum(1 for t in layer_types if t == "sliding_attention") if layer_types else (layers if window else 0)
    model_type = str(getattr(cfg, "model_type", ""))
    expert_intermediate = int(getattr(cfg, "moe_intermediate_size", 0) or 0)
    return Architecture(
        name=name or getattr(cfg, "_name_or_path", "") or model_type,
        model_type=model_type,
        hidden=hidden,
        layers=layers,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate=intermediate,
        vocab=vocab,
        tied=bool(getattr(cfg, "tie_word_embeddings", False)),
        experts=int(getattr(cfg, "num_local_experts", None) or getattr(cfg, "num_experts", None) or getattr(cfg, "n_routed_experts", None) or 1),
        experts_per_token=int(getattr(cfg, "num_experts_per_tok", None) or 1),
        sliding_window=int(window) if window and sliding else None,
        sliding_layers=sliding if window else 0,
        qkv_bias=model_type.startswith("qwen2") or bool(getattr(cfg, "attention_bias", False)),
        norms_per_layer=4 if model_type.startswith(("gemma2", "gemma3")) else 2,
        qk_norm=model_type.startswith(("qwen3", "gemma3")),
        max_context=int(getattr(cfg, "max_position_embeddings", 0) or 0) or None,
        hf_id=str(getattr(config, "hf_id", "") or getattr(cfg, "_name_or_path", "") or ""),
        expert_intermediate=expert_intermediate,
        shared_intermediate=int(getattr(cfg, "shared_expert_intermediate_size", 0) or 0) or int(getattr(cfg, "n_shared_experts", 0) or 0) * expert_intermediate,
        shared_gate=model_type == "qwen2_moe",
        dense_layers=int(getattr(cfg, "first_k_dense_replace", 0) or 0) or len(getattr(cfg, "mlp_only_layers", None) or []),
        kv_lora_rank=int(getattr(cfg, "kv_lora_rank", 0) or 0),
        q_lora_rank=int(getattr(cfg, "q_lora_rank", 0) or 0),
        qk_rope_dim=int(getattr(cfg, "qk_rope_head_dim", 0) or 0),
        qk_nope_dim=int(getattr(cfg, "qk_nope_head_dim", 0) or 0),
        v_head_dim=int(getattr(cfg, "v_head_dim", 0) or 0),
    )


# Beyond any real model: the largest published ones have about 2 x 10^12 parameters and dimensions
# in the tens of thousands (vocabularies of a few hundred thousand).
MAX_PARAMS = 10**13
MAX_DIMENSION = 10**6


def check_plausible(arch: Architecture) -> Architecture:
    """Refuse a config no real model has, before planning astronomical figures from it."""
    dimensions = {"hidden_size": arch.hidden, "num_hidden_layers": arch.layers, "num_attention_heads": arch.heads, "num_key_value_heads": arch.kv_heads,
                  "head_dim": arch.head_dim, "intermediate_size": arch.intermediate, "vocab_size": arch.vocab, "num_experts": arch.experts}
    for field_name, value in dimensions.items():
        if value < 1 or value > MAX_DIMENSION:
            raise UserError(
                Msg(
                    "The config's {field} is {value}, which no real model has (1 to {most}): check it is a model's config.json.",
                    field=field_name,
                    value=value,
                    most=MAX_DIMENSION,
                )
            )
    total = arch.params()["total"]
    if total > MAX_PARAMS:
        raise UserError(
            Msg(
                "The config describes a model of {trillions} trillion parameters, beyond any real model (at most {most} trillion): check its sizes.",
                trillions=round(total / 1e12),
                most=round(MAX_PARAMS / 1e12),
            )
        )
    return arch


def config_from_dict(values: dict):
    """A transformers config object from a config.json's contents."""
    from transformers import CONFIG_MAPPING

    model_type = values.get("model_type")
    if model_type not in CONFIG_MAPPING:
        raise UserError(Msg("The config's model_type '{model_type}' is not one transformers knows.", model_type=model_type))
    return CONFIG_MAPPING[model_type].from_dict({k: v for k, v in values.items() if k != "model_type"})


def catalog() -> dict[str, dict]:
    return json.loads((ASSETS / "models.json").read_text())


def gpu_catalog() -> dict[str, dict]:
    return {name: spec for name, spec in json.loads((ASSETS / "gpus.json").read_text()).items() if not name.startswith("_")}


def architecture_from_pretrained(model: str) -> Architecture:
    """The architecture of a model whose config transformers finds locally (a folder or a cached id)."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(model)
    except (OSError, ValueError) as error:
        raise UserError(Msg("Could not read the config of '{model}' from local files.", model=model)) from error
    return architecture_from_config(config, name=model)


def load_architecture(*, model: str | None = None, config_path: str | None = None, config: dict | None = None) -> Architecture:
    if config_path:
        config = read_json_file(config_path)
    if config is not None:
        if not isinstance(config, dict):
            raise UserError(Msg("A config.json holds one JSON object."))
        try:
            return check_plausible(architecture_from_config(config_from_dict(config), name=model or str(config.get("_name_or_path", "")) or "custom"))
        except UserError:
            raise
        except Exception as error:  # noqa: BLE001 - transformers' strict configs raise their own types; the user needs one sentence
            # transformers and int() reject wrong types in many ways; the user needs only which file
            raise UserError(
                Msg("The config has a field of the wrong type or value ({error}): check it is a model's config.json.", error=type(error).__name__)
            ) from error
    models = catalog()
    if model not in models:
        raise UserError(Msg("Unknown model '{model}': choose one of {models}, or give --config.", model=model, models=", ".join(models)))
    return architecture_from_config(config_from_dict(models[model]), name=model)


@dataclass(frozen=True)
class Workload:
    mode: str = "inference"  # inference | full | lora | qlora
    dtype: str = "bf16"  # weight format (inference) or training precision
    kv_dtype: str = "bf16"
    batch: int = 1
    prompt: int = 512
    new: int = 128
    seq: int = 1024
    lora_r: int = 16
    lora_targets: tuple[str, ...] = ("q", "k", "v", "o")
    grad_checkpointing: bool = False
    mixed_precision: bool = False  # full fine-tune with fp32 master weights and bf16 compute

    def validate(self) -> None:
        if self.mode not in ("inference", "full", "lora", "qlora"):
            raise UserError(Msg("Unknown mode '{mode}': choose inference, full, lora or qlora.", mode=self.mode))
        if self.dtype not in WEIGHT_FORMATS:
            raise UserError(Msg("Unknown precision '{dtype}': choose one of {choices}.", dtype=self.dtype, choices=", ".join(WEIGHT_FORMATS)))
        if self.kv_dtype not in KV_BYTES:
            raise UserError(Msg("Unknown KV cache dtype '{dtype}': choose one of {choices}.", dtype=self.kv_dtype, choices=", ".join(KV_BYTES)))
        if self.mode in ("full", "lora") and self.dtype not in ("fp32", "bf16", "fp16"):
            raise UserError(Msg("Training runs in fp32, bf16 or fp16; for 4-bit weights choose qlora."))
        if min(self.batch, self.prompt, self.seq, self.lora_r) < 1 or self.new < 0:
            raise UserError(Msg("Batch, prompt, sequence length and LoRA rank must be positive."))


@dataclass
class Estimate:
    arch: Architecture
    workload: Workload
    breakdown: dict[str, float]  # bytes alive at the peak, by kind
    phase: str  # which moment the peak is: prefill, decode, backward, optimizer step
    params: dict[str, int] = field(default_factory=dict)

    @property
    def peak_bytes(self) -> float:
        return sum(self.breakdown.values())

    @property
    def peak_gib(self) -> float:
        return self.peak_bytes / GiB

    def gpu_need_gib(self, tp: int = 1) -> float:
        """Memory one GPU needs at tensor-parallel degree tp, with CUDA context and fragmentation."""
        shared = self.breakdown.get("framework_overhead", 0)
        split = (self.peak_bytes - shared) / GiB
        kv_split = self.breakdown.get("kv_cache", 0) / GiB
        if self.arch.kv_heads < tp:  # fewer KV heads than GPUs: each GPU keeps whole heads, some repeated
            split += kv_split * (tp / self.arch.kv_heads - 1)
        per_gpu = split / tp
        return per_gpu * (1 + FRAGMENTATION) + CUDA_CONTEXT_GIB + (TP_BUFFER_GIB if tp > 1 else 0)


def _weight_bytes(arch: Architecture, params: dict[str, int], fmt: str) -> float:
    per_param, embeddings_16bit = WEIGHT_FORMATS[fmt]
    embedding_bytes = 2.0 if embeddings_16bit else per_param
    norm_bytes = 4.0 if fmt == "fp32" else 2.0
    return params["linear"] * per_param + (params["embedding"] + params["lm_head"]) * embedding_bytes + params["norms"] * norm_bytes


def kv_bytes(arch: Architecture, batch: int, tokens: int, kv_dtype: str) -> float:
    full_layers = arch.layers - arch.sliding_layers
    # A sliding-window layer's cache keeps the window less the token being attended from (transformers'
    # sliding cache layers, measured in tests/test_gpu.py).
    sliding_tokens = min(tokens, arch.sliding_window - 1) if arch.sliding_window else tokens
    per_token_layer = arch.kv_width * KV_BYTES[kv_dtype]
    return batch * per_token_layer * (full_layers * tokens + arch.sliding_layers * sliding_tokens)


def _lora_params(arch: Architecture, r: int, targets: tuple[str, ...]) -> int:
    shapes = {
        "q": (arch.hidden, arch.q_dim),
        "k": (arch.hidden, arch.kv_dim),
        "v": (arch.hidden, arch.kv_dim),
        "o": (arch.q_dim, arch.hidden),
        "gate": (arch.hidden, arch.intermediate),
        "up": (arch.hidden, arch.intermediate),
        "down": (arch.intermediate, arch.hidden),
    }
    unknown = set(targets) - set(shapes)
    if unknown:
        raise UserError(Msg("Unknown LoRA target '{target}': choose from {choices}.", target=sorted(unknown)[0], choices=", ".join(shapes)))
    experts = {"gate": arch.experts, "up": arch.experts, "down": arch.experts}
    return arch.layers * sum(r * (shapes[t][0] + shapes[t][1]) * experts.get(t, 1) for t in targets)


def check_context(arch: Architecture, workload: Workload) -> None:
    """Refuse a sequence longer than the model reads: its figures would describe a model that does not exist."""
    asked = workload.prompt + workload.new if workload.mode == "inference" else workload.seq
    if arch.max_context and asked > arch.max_context:
        raise UserError(
            Msg(
                "{model} reads at most {limit} tokens and this plan asks for {asked}: shorten the prompt or output, or choose a model with a longer context.",
                model=arch.name,
                limit=arch.max_context,
                asked=asked,
            )
        )


def estimate(arch: Architecture, workload: Workload) -> Estimate:
    workload.validate()
    check_context(arch, workload)
    params = arch.params()
    active_intermediate = arch.active_intermediate
    if workload.mode == "inference":
        weights = _weight_bytes(arch, params, workload.dtype)
        tokens = workload.batch * workload.prompt
        prefill_activations = 2 * tokens * (PREFILL_INTERMEDIATE_VECTORS * active_intermediate + PREFILL_HIDDEN_VECTORS * arch.hidden)
        logits = workload.batch * arch.vocab * 4
        prefill = {
            "weights": weights,
            "kv_cache": kv_bytes(arch, workload.batch, workload.prompt, workload.kv_dtype),
            "activations": prefill_activations,
            "logits": logits,
        }
        decode_activations = 2 * workload.batch * (PREFILL_INTERMEDIATE_VECTORS * active_intermediate + PREFILL_HIDDEN_VECTORS * arch.hidden)
        decode = {
            "weights": weights,
            "kv_cache": kv_bytes(arch, workload.batch, workload.prompt + workload.new, workload.kv_dtype),
            "activations": decode_activations,
            "logits": logits,
        }
        phase, breakdown = max((("prefill", prefill), ("decode", decode)), key=lambda item: sum(item[1].values()))
        breakdown = {**breakdown, "gradients": 0.0, "optimizer_states": 0.0}
        return Estimate(arch, workload, breakdown, phase, params)

    tokens = workload.batch * workload.seq
    if workload.mode == "qlora":
        weights = _weight_bytes(arch, params, "nf4")
        compute_bytes = 2.0
    elif workload.mode == "full" and workload.mixed_precision:
        weights = params["total"] * (4 + 2)  # fp32 master weights and autocast's bf16 copies
        compute_bytes = 2.0
    else:
        weights = _weight_bytes(arch, params, workload.dtype)
        compute_bytes = WEIGHT_FORMATS[workload.dtype][0]
    if workload.mode == "full":
        trainable = params["total"]
        state_bytes = 4.0 if workload.mixed_precision else compute_bytes
        grad_bytes = state_bytes
    else:
        trainable = _lora_params(arch, workload.lora_r, workload.lora_targets)
        state_bytes = grad_bytes = compute_bytes
    states = 2 * trainable * state_bytes  # AdamW: first and second moments
    gradients = trainable * grad_bytes
    per_layer_token = (TRAIN_HIDDEN_VECTORS * arch.hidden + TRAIN_INTERMEDIATE_VECTORS * active_intermediate) * compute_bytes
    logits = tokens * arch.vocab * TRAIN_LOGIT_BYTES
    held = {"weights": weights, "gradients": 0.0, "optimizer_states": states}
    if workload.grad_checkpointing:
        # Only each layer's input is kept. The loss's backward (logits, their fp32 copy, log-softmax
        # and its gradient) ends before the last layer is rebuilt; from then one layer's activations
        # are alive at a time, beside the bf16 logits the forward pass returned.
        checkpoints = tokens * arch.layers * arch.hidden * compute_bytes
        backwards = [
            {**held, "activations": checkpoints, "logits": logits},
            {**held, "activations": checkpoints + tokens * per_layer_token, "logits": tokens * arch.vocab * 2.0},
        ]
    else:
        backwards = [{**held, "activations": tokens * arch.layers * per_layer_token, "logits": logits}]
    step = {"weights": weights, "activations": 0.0, "logits": 0.0, "gradients": 2 * gradients, "optimizer_states": states}  # foreach temporaries
    phase, breakdown = max([("backward", b) for b in backwards] + [("optimizer step", step)], key=lambda item: sum(item[1].values()))
    breakdown = {**breakdown, "kv_cache": 0.0}
    return Estimate(arch, workload, breakdown, phase, params)
