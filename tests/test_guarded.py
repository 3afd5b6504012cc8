"""The one guarded-generation shape: check, one batched repair, fall back."""
import pytest

from core.errors import LLMError
from core.llm.guarded import guard, guard_many


def too_short(_, text):
    return ["too short"] if len(text) < 5 else []


def test_texts_that_pass_are_kept_and_nothing_is_repaired():
    asked = []
    results = guard_many(["hello there", "fine text"], too_short, lambda i, t, p: "fallback", repair=lambda *a: asked.append(a) or [])
    assert [(r.value, r.source, r.rounds) for r in results] == [("hello there", "model", []), ("fine text", "model", [])]
    assert asked == []


def test_refused_texts_are_repaired_in_one_call_and_still_refused_ones_fall_back():
    calls = []

    def repair(indexes, texts, problems):
        calls.append((indexes, texts, problems))
        return ["now long enough", "no"]

    results = guard_many(["ok?", "long enough", "x"], too_short, lambda i, text, problems: f"fallback for {text}", repair=repair)
    assert calls == [([0, 2], ["ok?", "x"], [["too short"], ["too short"]])]
    assert [(r.value, r.source) for r in results] == [("now long enough", "repaired"), ("long enough", "model"), ("fallback for no", "fallback")]
    assert results[2].rounds == [["too short"], ["too short"]] and results[2].problems == ["too short"]


def test_a_failing_repair_counts_as_refused_and_falls_back_with_its_reason():
    def repair(*_):
        raise LLMError("The API timed out.")

    result = guard("no", lambda t: too_short(0, t), lambda text, problems: "written by code", repair=repair)
    assert (result.value, result.source) == ("written by code", "fallback")
    assert result.problems == ["the repair failed: The API timed out."]
    with pytest.raises(LLMError, match="timed out"):  # or, when asked, the failure goes to the caller as it was
        guard("no", lambda t: too_short(0, t), lambda text, problems: "written by code", repair=repair, fall_back_on_error=False)


def test_accept_turns_a_passing_text_into_a_value_and_no_repair_means_straight_to_fallback():
    assert guard("12345", lambda t: [], lambda t, p: 0, accept=int).value == 12345
    assert guard("x", lambda t: ["bad"], lambda t, p: -1).value == -1
