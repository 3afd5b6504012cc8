"""The capacity plan a person acts on: verdict, options, hosted models of the same class, the
break-even as a number, interconnect and housing, the vLLM serving plan and the context limit."""

import json
import math

import pytest
from genai_prices import Usage, calc_price

from core.capacity.advice import default_checkpointing, plan
from core.capacity.hosted import break_even_per_day, offers
from core.capacity.memory import GiB, Workload, estimate, gpu_catalog, kv_bytes, load_architecture
from core.capacity.planner import gpus_needed, monthly_cost, roofline
from core.capacity.serving import PCIE_TP_SCALING, SERVER_USD_PER_HOUR, VLLM_MEMORY_UTILISATION, vllm_plan
from core.errors import UserError
from core.i18n import render
from tests.conftest import run_cli

GPUS = gpu_catalog()
SERVE_70B = Workload(batch=8, prompt=1024, new=256)


def words(sentences, language="en") -> str:
    return " ".join(render(sentence, language) for sentence in sentences)


def test_eight_rtx_4090s_are_a_server_over_pcie_not_an_eightfold_speed_up():
    arch = load_architecture(model="Llama-3.3-70B")
    est = estimate(arch, SERVE_70B)
    rtx = GPUS["RTX 4090 24GB"]
    assert gpus_needed(est, rtx) == 8
    ideal = roofline(est, {**rtx, "link": "nvlink"}, 8)
    pcie = roofline(est, rtx, 8)
    assert pcie.decode_tokens_per_s == pytest.approx(ideal.decode_tokens_per_s * PCIE_TP_SCALING[8])
    cost = monthly_cost(est, rtx, 8, requests_per_day=100)
    assert cost.rental_usd == pytest.approx((8 * rtx["price_per_hour"] + SERVER_USD_PER_HOUR) * 730)  # the server is priced
    result = plan(arch, SERVE_70B, gpu_name="RTX 4090 24GB", requests_per_day=5000)
    said = words(result["verdict"])
    assert result["gpu"]["needs_server"] and "multi-GPU server" in said and "PCIe" in said and "18%" in said
    assert result["options"], "a plan that needs a server of consumer cards says what to change"


def test_nvlinked_data_centre_cards_keep_their_speed_and_two_3080s_are_not_faster_than_a_3090():
    est = estimate(load_architecture(model="Llama-3.1-8B"), Workload(batch=1, prompt=512, new=128, dtype="int8"))
    h100 = GPUS["H100 80GB"]
    assert roofline(est, h100, 2).decode_tokens_per_s == pytest.approx(2 * roofline(est, h100, 1).decode_tokens_per_s)
    two_3080 = roofline(est, GPUS["RTX 3080 10GB"], 2).decode_tokens_per_s
    one_3090 = roofline(est, GPUS["RTX 3090 24GB"], 1).decode_tokens_per_s
    assert two_3080 < 1.05 * one_3090  # the roofline alone said 1.6 times


def test_a_70b_model_is_compared_with_hosted_models_of_its_class_priced_with_cached_input():
    est = estimate(load_architecture(model="Llama-3.3-70B"), SERVE_70B)
    found = offers(est, cached_share=0.5)
    open_models = [offer for offer in found if offer.open]
    assert len(open_models) >= 3 and all("70B" in offer.label for offer in open_models)
    assert [offer.usd_per_request for offer in open_models] == sorted(offer.usd_per_request for offer in open_models)
    closed = [offer for offer in found if not offer.open]
    assert [offer.model for offer in closed] == ["gpt-4o"]
    expected = calc_price(Usage(input_tokens=1024, cache_read_tokens=512, output_tokens=256), "gpt-4o", provider_id="openai").total_price
    assert closed[0].usd_per_request == pytest.approx(float(expected))
    uncached = offers(est, cached_share=0.0)
    assert [o for o in uncached if not o.open][0].usd_per_request > closed[0].usd_per_request  # gpt-4o discounts cached input
    small = offers(estimate(load_architecture(model="Llama-3.2-1B"), SERVE_70B))
    assert not any("70B" in offer.label for offer in small)


def test_the_break_even_is_the_volume_where_the_monthly_costs_meet():
    arch = load_architecture(model="Llama-3.1-8B")
    result = plan(arch, Workload(batch=16, prompt=1024, new=256), gpu_name="RTX 3090 24GB", requests_per_day=1000)
    closed = next(offer for offer in result["hosted"] if not offer["open"])
    volume = closed["break_even_requests_per_day"]
    assert isinstance(volume, int) and volume > 0
    est = estimate(arch, Workload(batch=16, prompt=1024, new=256))
    from core.capacity.hosted import Offer

    offer = Offer(closed["provider"], closed["model"], closed["label"], False, closed["usd_per_request"])
    below = monthly_cost(est, GPUS["RTX 3090 24GB"], 1, requests_per_day=volume * 0.98, offer=offer)
    above = monthly_cost(est, GPUS["RTX 3090 24GB"], 1, requests_per_day=volume * 1.02, offer=offer)
    assert below.api_usd < below.self_hosted_usd and above.api_usd > above.self_hosted_usd
    # never: one set of GPUs costs more per request at full load than the API
    assert break_even_per_day(1000.0, 100.0, 1.0) is None and break_even_per_day(1000.0, 2000.0, 1.0) == pytest.approx(1000 / 30.4)


def test_the_verdict_says_which_is_cheaper_and_from_which_volume_in_each_language():
    arch = load_architecture(model="Llama-3.1-8B")
    result = plan(arch, Workload(batch=16, prompt=1024, new=256), gpu_name="H100 80GB", requests_per_day=200_000)
    said = words(result["verdict"])
    assert said.startswith("Llama-3.1-8B fits on 1 x H100 80GB") and "requests a day" in said
    assert ("self-hosting is cheaper" in said) or ("the API is cheaper" in said)
    for language in ("ro", "pl", "zh"):
        other = words(result["verdict"], language)
        assert other != said and "H100 80GB" in other


def test_options_when_a_model_does_not_fit_each_with_memory_gpus_speed_and_cost():
    arch = load_architecture(model="Llama-3.3-70B")
    single = plan(arch, SERVE_70B, gpu_name="RTX 4090 24GB", requests_per_day=2000)
    kinds = {option["kind"]: option for option in single["options"]}
    assert {"weights", "gpus", "model"} <= set(kinds)
    assert kinds["weights"]["gpu"] == "RTX 4090 24GB" and kinds["weights"]["gpus_needed"] <= 2
    assert kinds["model"]["model"] == "Llama-3.1-8B"  # the largest smaller Llama that fits
    assert GPUS[kinds["gpus"]["gpu"]]["link"] == "nvlink"
    for option in kinds.values():
        assert option["peak_gib"] > 0 and option["decode_tokens_per_s"] > 0 and option["monthly_usd"] > 0
    l40s = plan(arch, SERVE_70B, gpu_name="L40S 48GB", requests_per_day=2000)
    assert l40s["gpu"]["gpus_needed"] == 4 and not l40s["options"] and "PCIe" in words(l40s["verdict"])  # four in a box: no server, a slower link
    nothing = plan(load_architecture(model="Qwen2.5-72B"), Workload(batch=64, prompt=30000, new=2000), gpu_name="T4 16GB")
    assert nothing["gpu"]["gpus_needed"] is None and "does not fit on T4 16GB, even eight of them" in words(nothing["verdict"])


def test_vllm_plan_holds_the_concurrency_its_kv_cache_allows():
    arch = load_architecture(model="Llama-3.1-8B")
    est = estimate(arch, Workload(batch=32, prompt=3000, new=500))
    h100 = GPUS["H100 80GB"]
    serving = vllm_plan(est, h100, 1)
    assert serving.max_model_len == 4096
    args = serving.args
    assert args[:3] == ["vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct"]
    assert args[args.index("--tensor-parallel-size") + 1] == "1" and args[args.index("--max-model-len") + 1] == "4096"
    assert float(args[args.index("--gpu-memory-utilization") + 1]) == VLLM_MEMORY_UTILISATION
    per_sequence = kv_bytes(arch, 1, 4096, "bf16")
    assert per_sequence == 4096 * 128 * 1024  # 128 KiB a token
    budget = serving.kv_cache_gib_per_gpu * GiB
    assert serving.max_concurrent_sequences == pytest.approx(budget / per_sequence, abs=1)
    assert 80 * 0.9 - 20 < serving.kv_cache_gib_per_gpu < 80 * 0.9 - 15  # 15 GiB of weights, graphs and profile
    fp8 = vllm_plan(estimate(arch, Workload(batch=32, prompt=3000, new=500, kv_dtype="fp8")), h100, 1)
    assert "--kv-cache-dtype" in fp8.args and fp8.max_concurrent_sequences >= 2 * serving.max_concurrent_sequences - 1
    crowded = vllm_plan(estimate(load_architecture(model="Llama-3.3-70B"), Workload(batch=8, prompt=100_000, new=1000)), GPUS["H200 141GB"], 1)
    assert crowded.max_concurrent_sequences == 0 and "would not start" in words(crowded.notes)


def test_a_context_beyond_the_model_is_refused_in_one_sentence():
    gemma = load_architecture(model="Gemma-2-9B")
    assert gemma.max_context == 8192
    with pytest.raises(UserError, match="reads at most 8,192 tokens and this plan asks for 32,128"):
        plan(gemma, Workload(prompt=32_000, new=128))
    with pytest.raises(UserError, match="reads at most 4,096"):
        estimate(load_architecture(model="Phi-3-mini-4k"), Workload(mode="lora", seq=8192))


def test_unified_memory_machines_are_one_box_served_without_vllm():
    apple = GPUS["Apple M2 Ultra 192GB"]
    est = estimate(load_architecture(model="Llama-3.3-70B"), Workload(dtype="awq", batch=4))
    assert gpus_needed(est, apple) == 1
    assert gpus_needed(estimate(load_architecture(model="Qwen2.5-72B"), Workload(dtype="fp32")), apple) is None  # never split
    result = plan(load_architecture(model="Llama-3.3-70B"), Workload(dtype="awq", batch=4), gpu_name="Apple M2 Ultra 192GB", requests_per_day=500)
    assert result["vllm_args"] == [] and "llama.cpp" in words(result["serving"]["notes"])
    auto = plan(load_architecture(model="Llama-3.1-8B"), Workload(batch=4))
    assert GPUS[auto["gpu"]["name"]]["kind"] != "unified"  # proposed only when chosen


def test_checkpointing_is_on_for_qlora_and_for_lora_on_24_gb_cards():
    assert default_checkpointing("qlora", None) and default_checkpointing("qlora", GPUS["H100 80GB"])
    assert default_checkpointing("lora", GPUS["RTX 4090 24GB"]) and not default_checkpointing("lora", GPUS["H100 80GB"])
    assert not default_checkpointing("full", GPUS["RTX 4090 24GB"]) and not default_checkpointing("inference", GPUS["T4 16GB"])
    arch = load_architecture(model="Qwen2.5-7B")
    result = plan(arch, Workload(mode="qlora", batch=4, seq=1024, grad_checkpointing=True), gpu_name="RTX 4090 24GB", dataset_tokens=1_000_000)
    said = words(result["verdict"])
    assert "Gradient checkpointing is on" in said and "QLoRA" in said and result["cost"]["hours"] > 0
    assert result["max_concurrent_sequences"] is None and result["vllm_args"] == []


@pytest.mark.slow
def test_gpu_json_has_the_verdict_options_break_even_concurrency_and_vllm_args():
    result = run_cli(
        "gpu", "--model", "Llama-3.3-70B", "--gpu", "RTX 4090 24GB", "--batch", "8", "--prompt", "1024", "--new", "256", "--requests-per-day", "5000", "--json"
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert isinstance(out["verdict"], str) and out["verdict"].startswith("Llama-3.3-70B fits on 8 x RTX 4090 24GB")
    assert out["options"] and all(isinstance(option["change"], str) for option in out["options"])
    assert out["break_even_requests_per_day"] is None or isinstance(out["break_even_requests_per_day"], int)
    assert isinstance(out["max_concurrent_sequences"], int) and out["max_concurrent_sequences"] >= 8
    assert out["vllm_args"][:2] == ["vllm", "serve"] and "--tensor-parallel-size" in out["vllm_args"]
    assert any("70B" in offer["label"] for offer in out["hosted"]) and out["hosted_class"] == "70 B"
    qlora = json.loads(run_cli("gpu", "--model", "Qwen2.5-7B", "--mode", "qlora", "--json").stdout)
    assert qlora["grad_checkpointing"] is True
    plain = json.loads(run_cli("gpu", "--model", "Qwen2.5-7B", "--mode", "qlora", "--no-grad-checkpointing", "--json").stdout)
    assert plain["grad_checkpointing"] is False and plain["peak_gib"] > qlora["peak_gib"]
    refused = run_cli("gpu", "--model", "Gemma-2-9B", "--prompt", "32000")
    assert refused.returncode == 2 and "reads at most 8,192 tokens" in refused.stderr and "Traceback" not in refused.stderr
    polish = json.loads(run_cli("gpu", "--model", "Llama-3.1-8B", "--requests-per-day", "1000", "--language", "pl", "--json").stdout)
    assert "Llama-3.1-8B" in polish["verdict"] and "requests a day" not in polish["verdict"]
    assert math.isfinite(polish["peak_gib"])


def test_mixture_of_experts_decoding_reads_the_experts_the_batch_chose():
    from core.capacity.planner import read_share

    mixtral = load_architecture(model="Mixtral-8x7B")
    params = mixtral.params()
    assert read_share(mixtral, params, 1) == pytest.approx(params["active"] / params["total"])  # one token: its two experts
    assert read_share(mixtral, params, 64) > 0.999  # a full batch reads every expert
    qwen = load_architecture(model="Qwen3-30B-A3B")
    shared = (qwen.params()["total"] - qwen.params()["routed"]) / qwen.params()["total"]
    assert read_share(qwen, qwen.params(), 16) == pytest.approx(shared + (1 - shared) * (1 - (1 - 8 / 128) ** 16))
    assert read_share(load_architecture(model="Llama-3.1-8B"), {}, 16) == 1.0
    one, many = (roofline(estimate(qwen, Workload(batch=b)), GPUS["H100 80GB"], 1).decode_tokens_per_s for b in (1, 16))
    assert many < one  # more of the experts read each step
