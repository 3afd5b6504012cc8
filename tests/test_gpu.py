"""The capacity planner: formulas against hand computations and against measured peaks."""
import json

import pytest

from core.capacity.hosted import Offer
from core.capacity.memory import GiB, Workload, architecture_from_config, catalog, config_from_dict, estimate, gpu_catalog, load_architecture
from core.capacity.planner import gpus_needed, monthly_cost, roofline
from core.errors import UserError
from tests.conftest import run_cli

# Peaks measured with plain transformers code on an H100 (torch.cuda.max_memory_allocated), from the issue.
# The activation constants in core/capacity/memory.py were fitted on these very cases, so matching them
# only guards the fit against a later change; the tests after them measure what the fit did not see.
MEASURED = [
    ("Llama-3.2-1B", Workload(batch=1, prompt=512, new=128), 2.38),
    ("Llama-3.2-1B", Workload(batch=8, prompt=1024, new=128), 3.09),
    ("Llama-3.2-1B", Workload(batch=32, prompt=512, new=64), 3.84),
    ("Llama-3.2-1B", Workload(mode="lora", batch=4, seq=1024, lora_r=16), 14.89),
    ("Llama-3.2-1B", Workload(mode="full", batch=4, seq=1024), 19.48),
    ("Qwen2.5-7B", Workload(batch=1, prompt=512, new=128), 14.32),
    ("Qwen2.5-7B", Workload(batch=8, prompt=1024, new=128), 15.76),
    ("Qwen2.5-7B", Workload(batch=32, prompt=512, new=64), 17.28),
    ("Qwen2.5-7B", Workload(mode="lora", batch=4, seq=1024, lora_r=16), 44.42),
]


@pytest.mark.parametrize("model, workload, measured", MEASURED)
def test_the_fit_still_reproduces_the_peaks_it_was_fitted_on(model, workload, measured):
    estimated = estimate(load_architecture(model=model), workload).peak_gib
    assert abs(estimated - measured) / measured < 0.05


@pytest.mark.parametrize("name", list(catalog()))
def test_parameters_equal_what_transformers_builds(name):
    # Measured, not computed: transformers builds the model on the meta device (shapes, no memory)
    # and its parameters are counted. The weights term of every estimate rests on this count.
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config_from_dict(catalog()[name]))
    built = sum(p.numel() for p in model.parameters())
    assert load_architecture(model=name).params()["total"] == built


TINY = dict(hidden_size=64, intermediate_size=128, num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_hidden_layers=4, vocab_size=256)


@pytest.mark.parametrize("name", ["Llama-3.2-1B", "Qwen2.5-0.5B", "Mistral-7B-v0.3", "Gemma-2-2B", "Gemma-3-1B", "Phi-3-mini-4k"])
def test_kv_cache_equals_the_cache_a_real_forward_pass_keeps(name):
    # Each family's code at a tiny size, run on the CPU with random bf16 weights: the bytes its cache
    # holds after a 20-token prompt, against the estimate for the same shape. Sliding-window layers
    # (Gemma) keep their window less one token.
    import torch
    from transformers import AutoModelForCausalLM

    values = {**catalog()[name], **TINY, "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0}
    values.pop("layer_types", None)
    if values.get("sliding_window"):
        values["sliding_window"] = 8
    config = config_from_dict(values)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config).to(torch.bfloat16).eval()
    with torch.no_grad():
        cache = model(input_ids=torch.randint(0, 256, (2, 20)), use_cache=True).past_key_values
    kept = sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))
    assert estimate(architecture_from_config(config), Workload(batch=2, prompt=20, new=0)).breakdown["kv_cache"] == kept


TINY_EXPERTS = {
    "qwen3_moe": dict(moe_intermediate_size=32, num_experts=4, num_experts_per_tok=2),
    "deepseek_v2": dict(moe_intermediate_size=32, n_routed_experts=4, n_shared_experts=1, num_experts_per_tok=2, first_k_dense_replace=1),
    "deepseek_v3": dict(moe_intermediate_size=32, n_routed_experts=4, n_shared_experts=1, num_experts_per_tok=2, first_k_dense_replace=1,
                        n_group=1, topk_group=1),
}
TINY_LATENT = dict(num_key_value_heads=4, kv_lora_rank=32, qk_rope_head_dim=8, qk_nope_head_dim=16, v_head_dim=16, head_dim=8)


@pytest.mark.parametrize("name", ["Qwen3-30B-A3B", "DeepSeek-V2-Lite", "DeepSeek-V3"])
def test_experts_and_latent_attention_match_a_real_model_at_a_tiny_size(name):
    # Mixture of experts with shared experts and dense first layers (Qwen3, DeepSeek) and multi-head
    # latent attention (DeepSeek), built by transformers at a tiny size on the CPU: its parameter count
    # and the bytes its cache keeps (transformers caches MLA's keys and values decompressed).
    import torch
    from transformers import AutoModelForCausalLM

    values = {**catalog()[name], **TINY, **TINY_EXPERTS[catalog()[name]["model_type"]], "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0}
    if catalog()[name].get("kv_lora_rank"):
        values.update(TINY_LATENT, q_lora_rank=catalog()[name]["q_lora_rank"] and 48)
    config = config_from_dict(values)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config).to(torch.bfloat16).eval()
    arch = architecture_from_config(config)
    assert arch.params()["total"] == sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        cache = model(input_ids=torch.randint(0, 256, (2, 20)), use_cache=True).past_key_values
    kept = sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))
    assert estimate(arch, Workload(batch=2, prompt=20, new=0)).breakdown["kv_cache"] == kept


def test_deepseek_v3_counts_every_expert_in_memory_and_the_active_ones_for_speed():
    arch = load_architecture(model="DeepSeek-V3")
    params = arch.params()
    assert params["total"] / 1e9 == pytest.approx(671.0, abs=0.5) and params["active"] / 1e9 == pytest.approx(37.6, abs=0.5)  # DeepSeek: 671 B, 37 B active
    est = estimate(arch, Workload(dtype="fp8", batch=1, prompt=4096, new=0))
    assert est.breakdown["weights"] / GiB > 620
    # MLA's cache is the latent: 512 + 64 numbers a token a layer, where 128 heads of keys and values would be 40,960
    assert est.breakdown["kv_cache"] == 61 * 4096 * (512 + 64) * 2


def test_weights_match_hand_counts():
    llama = load_architecture(model="Llama-3.2-1B")
    # embeddings 128256 x 2048 (tied) + 16 layers x (attention 10,485,760 + MLP 50,331,648 + norms 4,096) + final norm
    assert llama.params()["total"] == 128256 * 2048 + 16 * (2 * 2048 * 2048 + 2 * 2048 * 512 + 3 * 2048 * 8192 + 2 * 2048) + 2048
    assert estimate(llama, Workload()).breakdown["weights"] / GiB == pytest.approx(2.30, abs=0.01)
    qwen = load_architecture(model="Qwen2.5-7B")
    assert qwen.params()["total"] / 1e9 == pytest.approx(7.62, abs=0.01)  # Qwen's model card: 7.61 B
    assert estimate(qwen, Workload()).breakdown["weights"] / GiB == pytest.approx(14.2, abs=0.05)


def test_kv_cache_counts_kv_heads_times_head_size_not_hidden():
    llama = load_architecture(model="Llama-3.1-8B")
    est = estimate(llama, Workload(batch=1, prompt=8192, new=0))
    # 32 layers x 2 (K and V) x 8 KV heads x 128 x 2 bytes = 128 KiB per token
    assert est.breakdown["kv_cache"] == 8192 * 32 * 2 * 8 * 128 * 2


def test_sliding_window_layers_keep_only_their_window():
    gemma = load_architecture(model="Gemma-2-9B")
    assert gemma.sliding_layers == 21 and gemma.sliding_window == 4096
    kv = estimate(gemma, Workload(batch=1, prompt=8000, new=0)).breakdown["kv_cache"]
    per_token_layer = 2 * 8 * 256 * 2
    assert kv == per_token_layer * (21 * 8000 + 21 * 4095)


def test_mixture_of_experts_memory_counts_every_expert():
    mixtral = load_architecture(model="Mixtral-8x7B")
    params = mixtral.params()
    assert params["total"] / 1e9 == pytest.approx(46.7, abs=0.1)
    assert params["active"] / 1e9 == pytest.approx(12.9, abs=0.1)
    assert estimate(mixtral, Workload()).breakdown["weights"] / GiB == pytest.approx(params["total"] * 2 / GiB, rel=0.001)


def test_quantised_weights_and_qlora_are_smaller():
    arch = load_architecture(model="Llama-3.1-8B")
    bf16 = estimate(arch, Workload(dtype="bf16")).breakdown["weights"]
    nf4 = estimate(arch, Workload(dtype="nf4")).breakdown["weights"]
    assert 0.28 < nf4 / bf16 < 0.36  # 4-bit linear layers, embeddings and head kept in 16-bit
    assert estimate(arch, Workload(mode="qlora")).peak_gib < estimate(arch, Workload(mode="lora")).peak_gib


def test_gradient_checkpointing_and_mixed_precision_move_the_peak_the_right_way():
    arch = load_architecture(model="Llama-3.2-1B")
    plain = estimate(arch, Workload(mode="full", batch=4))
    checkpointed = estimate(arch, Workload(mode="full", batch=4, grad_checkpointing=True))
    assert plain.phase == "backward"
    assert checkpointed.peak_gib < plain.peak_gib - 5  # ~7 GiB of saved layer activations become ~0.5
    mixed = estimate(arch, Workload(mode="full", batch=4, mixed_precision=True))
    assert mixed.breakdown["optimizer_states"] == 2 * plain.breakdown["optimizer_states"]  # fp32 moments


def test_tensor_parallel_needs_more_than_memory_divided():
    arch = load_architecture(model="Llama-3.3-70B")
    est = estimate(arch, Workload(batch=8, prompt=2048, new=256))
    h100 = gpu_catalog()["H100 80GB"]
    tp = gpus_needed(est, h100)
    assert tp == 2
    assert est.gpu_need_gib(2) > est.peak_gib / 2
    assert gpus_needed(est, gpu_catalog()["RTX 3080 10GB"]) is None


def test_roofline_decode_is_bandwidth_bound():
    arch = load_architecture(model="Llama-3.1-8B")
    est = estimate(arch, Workload(batch=1, prompt=128, new=128))
    h100 = gpu_catalog()["H100 80GB"]
    speed = roofline(est, h100, 1, efficiency=1.0)
    bytes_per_step = est.breakdown["weights"] + 128 * 192 * 32 * 2 * 8 * 128 * 2 / 128  # weights + average KV read
    assert speed.decode_tokens_per_s == pytest.approx(3350e9 / bytes_per_step, rel=0.01)


def test_monthly_cost_counts_gpu_hours_and_prices_the_api():
    arch = load_architecture(model="Llama-3.1-8B")
    est = estimate(arch, Workload(batch=8, prompt=1000, new=200))
    l4 = gpu_catalog()["L4 24GB"]
    mini = Offer("openai", "gpt-4o-mini", "gpt-4o-mini", False, (1000 * 0.15 + 200 * 0.60) / 1e6)
    cost = monthly_cost(est, l4, 1, requests_per_day=1000, kwh_price=0.2, utilisation=0.5, offer=mini)
    assert cost.gpu_hours == 730 and cost.rental_usd == pytest.approx(730 * l4["price_per_hour"])
    assert cost.energy_kwh == pytest.approx(0.072 * 730 * 0.5)
    # gpt-4o-mini: 30,400 requests x (1000 in at $0.15/M + 200 out at $0.60/M)
    assert cost.api_usd == pytest.approx(30_400 * (1000 * 0.15 + 200 * 0.60) / 1e6, rel=0.01)


def test_every_catalog_entry_loads_into_a_transformers_config():
    for name, values in catalog().items():
        config = config_from_dict(values)
        arch = architecture_from_config(config, name=name)
        assert arch.params()["total"] > 4e8, name


def test_a_pasted_config_with_a_nested_text_config_works():
    nested = {"model_type": "gemma3", "text_config": {**catalog()["Gemma-3-4B"]}}
    arch = load_architecture(config=nested)
    assert arch.hidden == 2560 and arch.sliding_window == 1024


def test_bad_inputs_are_one_sentence():
    with pytest.raises(UserError, match="Unknown model"):
        load_architecture(model="GPT-9")
    with pytest.raises(UserError, match="not one transformers knows"):
        load_architecture(config={"model_type": "toaster"})
    with pytest.raises(UserError, match="Unknown precision"):
        estimate(load_architecture(model="Llama-3.2-1B"), Workload(dtype="int3"))


def run_gpu(*args):
    return run_cli("gpu", *args)


@pytest.mark.slow
def test_cli_prints_peak_breakdown_gpus_and_cost(tmp_path):
    result = run_gpu(
        "--model",
        "Qwen2.5-7B",
        "--mode",
        "lora",
        "--dtype",
        "bf16",
        "--batch",
        "4",
        "--seq",
        "1024",
        "--lora-r",
        "16",
        "--gpu",
        "H100 80GB",
        "--dataset-tokens",
        "1000000",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["peak_gib"] == pytest.approx(44.42, rel=0.1)
    assert set(out["breakdown_gib"]) >= {"weights", "activations", "gradients", "optimizer_states", "kv_cache"}
    assert out["gpu"]["gpus_needed"] == 1 and out["cost"]["cost_usd"] > 0
    config = tmp_path / "config.json"
    config.write_text(json.dumps(catalog()["Llama-3.2-1B"]))
    result = run_gpu("--config", str(config), "--mode", "inference", "--dtype", "bf16", "--batch", "8", "--prompt", "1024", "--new", "128", "--json")
    assert json.loads(result.stdout)["peak_gib"] == pytest.approx(3.09, rel=0.1)


@pytest.mark.slow
def test_cli_bad_input_exits_2_with_one_sentence(tmp_path):
    result = run_gpu("--model", "GPT-9", "--mode", "inference", "--dtype", "bf16")
    assert result.returncode == 2 and "Unknown model 'GPT-9'" in result.stderr and "Traceback" not in result.stderr
    broken = tmp_path / "config.json"
    broken.write_text("{not json")
    result = run_gpu("--config", str(broken), "--mode", "full", "--dtype", "bf16")
    assert result.returncode == 2 and "is not valid JSON" in result.stderr
