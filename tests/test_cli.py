"""`python -m core generate` as a person runs it: a real subprocess, offline."""
import json

import pytest

from tests.conftest import run_cli


@pytest.mark.slow
def test_generate_prints_a_completion_as_json():
    result = run_cli("generate", "--backend", "embedded", "--max-tokens", "30", "--json", "Write one friendly sentence thanking a customer.")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["backend"] == "embedded" and payload["model"] == "SmolLM2-135M-Instruct"
    assert payload["tokens"]["out"] > 0 and payload["latency_s"] > 0
    assert len(payload["text"].split()) >= 3


@pytest.mark.slow
def test_missing_key_exits_2_with_one_sentence():
    result = run_cli("generate", "--backend", "openai", "hello", env={"OPENAI_API_KEY": ""})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "No API key is set for OpenAI" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_unknown_backend_is_refused_by_the_parser():
    result = run_cli("generate", "--backend", "gpt5", "hello")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
