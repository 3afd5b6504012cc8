"""The Capacity planner page under AppTest."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from core.capacity.memory import catalog
from tests.conftest import ROOT


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page("app_pages/capacity.py").run()
    assert not at.exception
    return at


@pytest.mark.slow
def test_catalog_model_shows_the_verdict_first_then_peak_speed_cost_and_the_vllm_command():
    at = open_page()
    at.selectbox(key="capacity_model").select("Llama-3.2-1B").run()
    at.number_input(key="capacity_batch").set_value(8).run()
    at.number_input(key="capacity_prompt").set_value(1024).run()
    at.number_input(key="capacity_new").set_value(128).run()
    assert not at.exception
    verdict = at.success[0].value
    assert verdict.startswith("Llama-3.2-1B fits on 1 x") and "requests a day" in verdict
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Peak GPU memory (tensors)"] == "3.08 GiB"
    assert metrics["Self-hosted per month"].startswith("$") and "Self-hosting pays above" in metrics and "Most requests at once" in metrics
    assert any(code.value.startswith("vllm serve meta-llama/Llama-3.2-1B-Instruct") for code in at.code)
    # the verdict comes right under the title, before everything the page computes it from
    first = list(at.main.children.values())[2]
    assert [child.type for child in first.children.values()] == ["success"] and first.children[0].value == verdict


@pytest.mark.slow
def test_the_chosen_gpu_is_the_one_planned_on_and_eight_consumer_cards_are_flagged():
    at = open_page()
    at.selectbox(key="capacity_model").select("Llama-3.1-8B").run()
    at.selectbox(key="capacity_gpu").select("RTX 4090 24GB").run()
    assert not at.exception
    assert "1 x RTX 4090 24GB" in at.success[0].value
    assert any(header.value == "Speed and cost on 1 x RTX 4090 24GB" for header in at.subheader)
    at.selectbox(key="capacity_model").select("Llama-3.3-70B").run()
    warning = at.warning[0].value
    assert "8 x RTX 4090 24GB" in warning and "multi-GPU server" in warning and "PCIe" in warning
    assert at.dataframe[0].value.shape[0] >= 2  # what to change, each with memory, speed and cost


@pytest.mark.slow
def test_a_context_beyond_the_model_is_refused_on_the_page():
    at = open_page()
    at.selectbox(key="capacity_model").select("Gemma-2-9B").run()
    at.number_input(key="capacity_prompt").set_value(32000).run()
    assert not at.exception
    assert "reads at most 8,192 tokens" in at.error[0].value


@pytest.mark.slow
def test_qlora_starts_with_gradient_checkpointing_on():
    at = open_page()
    at.segmented_control(key="capacity_mode").set_value("qlora").run()
    assert not at.exception
    assert at.toggle[0].value is True
    assert "Gradient checkpointing is on" in at.success[0].value


@pytest.mark.slow
def test_lora_workload_and_a_pasted_config():
    at = open_page()
    at.radio(key="capacity_source").set_value("config").run()
    assert "Upload or paste" in at.info[0].value
    at.text_area(key="capacity_config_text").input(json.dumps(catalog()["Qwen2.5-7B"])).run()
    at.segmented_control(key="capacity_mode").set_value("lora").run()
    at.number_input(key="capacity_train_batch").set_value(4).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Peak GPU memory (tensors)"] == "44.41 GiB"
    assert "Cost of the run" in metrics


def test_broken_config_is_one_sentence():
    at = open_page()
    at.radio(key="capacity_source").set_value("config").run()
    at.text_area(key="capacity_config_text").input("{nope").run()
    assert not at.exception
    assert at.error[0].value.startswith("That is not valid JSON")


def test_a_pasted_config_nested_without_end_is_one_sentence():
    at = open_page()
    at.radio(key="capacity_source").set_value("config").run()
    at.text_area(key="capacity_config_text").input('{"model_type": ' + "[" * 50_000 + "]" * 50_000 + "}").run()
    assert not at.exception
    assert at.error[0].value == "That nests JSON deeper than 64 levels, more than Mercury reads."
