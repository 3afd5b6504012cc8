"""The embedded model really generates, offline, through the shared interface."""

import pytest

from core.llm import BackendSpec, complete, complete_many, fit_to_window, get_backend, resolve_spec, stream
from core.usage import calls_frame
from tests.conftest import drain

pytestmark = pytest.mark.model  # the embedded language model or the e5 encoder itself


EMBEDDED = BackendSpec(kind="embedded", model="SmolLM2-135M-Instruct")


def test_resolves_to_embedded_by_default():
    assert resolve_spec() == EMBEDDED


def test_generates_a_sentence_offline_and_records_usage():
    completion = complete(
        [{"role": "user", "content": "Write one friendly sentence thanking a customer."}],
        spec=EMBEDDED,
        page="tests",
        max_tokens=40,
        temperature=0,
    )
    assert len(completion.text.split()) >= 3
    assert completion.tokens_out > 0 and completion.tokens_in > 10
    calls = calls_frame()
    assert len(calls) == 1
    assert calls.iloc[0]["backend"] == "embedded" and calls.iloc[0]["compute_s"] > 0 and calls.iloc[0]["cost_usd"] == 0


def test_complete_many_answers_each_prompt_in_order():
    prompts = ["What is 2 plus 2?", "Name a colour of the sky on a clear day, in one word.", "Say the word banana."]
    conversations = [[{"role": "user", "content": p}] for p in prompts]
    batched = complete_many(conversations, spec=EMBEDDED, max_tokens=12, temperature=0)
    one_by_one = [complete(c, spec=EMBEDDED, max_tokens=12, temperature=0) for c in conversations]
    assert len(batched) == 3
    # Left padding keeps greedy answers the same as unbatched ones, so order is checkable.
    for together, alone in zip(batched, one_by_one):
        assert together.text[:15] == alone.text[:15]
    assert len(calls_frame()) == 6


def test_stream_yields_text_as_it_is_generated():
    generator = stream([{"role": "user", "content": "Count from one to five."}], spec=EMBEDDED, max_tokens=20, temperature=0)
    pieces, completion = drain(generator)
    assert len(pieces) > 2
    assert completion.text == "".join(pieces).strip()


def test_input_longer_than_the_window_is_cut_with_a_note():
    backend = get_backend(EMBEDDED)
    huge = "The delivery was late and the box was damaged. " * 2000  # far beyond 8,192 tokens
    fitted, notes = fit_to_window(backend, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": huge}], 100)
    assert notes and "was cut" in notes[0]
    assert sum(backend.count_tokens(m["content"]) for m in fitted) <= backend.context_window - 100
    assert fitted[0]["content"] == "Be brief."
    completion = complete([{"role": "user", "content": huge}], spec=EMBEDDED, max_tokens=8, temperature=0)
    assert len(completion.notes) == 1 and completion.notes[0].startswith("The input was 20,001 tokens")
    assert completion.tokens_in < backend.context_window


def test_answer_longer_than_the_window_is_refused_in_a_sentence():
    from core.llm import LLMError

    with pytest.raises(LLMError, match="does not fit the model's 8192-token window"):
        complete([{"role": "user", "content": "hi"}], spec=EMBEDDED, max_tokens=9000)
