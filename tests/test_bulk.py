"""The bulk failure policy (core/llm/bulk.py), on its own: what a batch does when requests fail."""
from __future__ import annotations

import threading

from core.errors import LLMError, PartialBatchError
from core.i18n import Msg
from core.llm.bulk import CONCURRENCY, FAILURES_IN_A_ROW, run_batch

TROUBLE = Msg("could not connect")


def batch(count: int, fails: set[int], *, trouble: bool = True):
    asked: list[int] = []
    lock = threading.Lock()

    def request(index: int) -> str:
        with lock:
            asked.append(index)
        if index in fails:
            raise LLMError(Msg("The server said no."))
        return f"answer {index}"

    try:
        return run_batch(count, request, trouble=lambda error: TROUBLE if trouble else None, where="http://gpu:8000/v1"), asked
    except PartialBatchError as error:
        return error, asked


def test_every_answer_arrives_in_order():
    answers, asked = batch(30, set())
    assert answers == [f"answer {i}" for i in range(30)] and sorted(asked) == list(range(30))


def test_one_lost_request_does_not_stop_the_batch():
    error, asked = batch(30, {4})
    assert isinstance(error, PartialBatchError) and not error.stopped
    assert sorted(error.finished) == [i for i in range(30) if i != 4] and len(asked) == 30
    assert str(error) == "The server said no after 29 of 30 answers."


def test_the_server_in_trouble_for_three_requests_in_a_row_stops_the_batch():
    error, asked = batch(200, set(range(10, 200)))
    assert error.stopped and sorted(error.finished) == list(range(10))
    assert str(error) == (
        f"The API at http://gpu:8000/v1 failed {FAILURES_IN_A_ROW} requests in a row (could not connect), so the batch stopped after 10 of 200 answers."
    )
    assert len(asked) <= 10 + FAILURES_IN_A_ROW + CONCURRENCY  # the rest were never sent


def test_a_failure_every_request_would_meet_stops_at_once():
    error, asked = batch(200, set(range(200)), trouble=False)
    assert not error.stopped and error.finished == {} and len(asked) <= CONCURRENCY
    assert str(error) == "The server said no after 0 of 200 answers."
