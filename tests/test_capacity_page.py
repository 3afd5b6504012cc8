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
def test_catalog_model_shows_peak_fit_speed_and_cost():
    at = open_page()
    at.selectbox(key="capacity_model").select("Llama-3.2-1B").run()
    at.number_input(key="capacity_batch").set_value(8).run()
    at.number_input(key="capacity_prompt").set_value(1024).run()
    at.number_input(key="capacity_new").set_value(128).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Peak GPU memory (tensors)"] == "3.08 GiB"
    assert "Self-hosted per month" in metrics and metrics["gpt-4o-mini per month"].startswith("$")


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
