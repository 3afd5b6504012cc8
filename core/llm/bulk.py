"""The one failure policy of every bulk path (sentiment by an LLM, reply batches with their triage,
model-lab evaluations): `run_batch` keeps a few requests in flight at once; each is retried by the
client itself (the OpenAI SDK's max_retries and timeout, OPENAI_MAX_RETRIES and OPENAI_TIMEOUT). A
request that still fails is lost, and the batch goes on, unless the failure is one every request
would meet (a refused key, a missing model: the batch stops at once) or the server is in trouble
(no connection, no answer in time) for FAILURES_IN_A_ROW requests in a row: the breaker stops the
batch then, so a hung server stops it in about timeout x (max_retries + 1), not once per request.

What arrived before a batch stopped is paid for: it travels on PartialBatchError.finished, and the
caller saves it (scores in the score cache, drafts in the queue) so a rerun asks only for the rest."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Callable, TypeVar

from core.errors import LLMError, PartialBatchError
from core.i18n import Clause, Msg

T = TypeVar("T")

FAILURES_IN_A_ROW = 3
CONCURRENCY = 8


class Breaker:
    """Counts failures in a row across the requests of one batch."""

    def __init__(self, limit: int = FAILURES_IN_A_ROW):
        self.limit, self.in_a_row, self._lock = limit, 0, threading.Lock()

    def success(self) -> None:
        with self._lock:
            self.in_a_row = 0

    def failure(self) -> bool:
        """Count one failure; True when the batch must stop."""
        with self._lock:
            self.in_a_row += 1
            return self.in_a_row >= self.limit


def saved_after_stop(error: PartialBatchError, saved: int, what: str) -> LLMError:
    """The error a caller raises once it has saved what arrived: it says so, and that a rerun sends only the rest."""
    return LLMError(
        Msg("{problem}; the {saved} {what} that arrived are saved, so a rerun asks only for the rest.", problem=Clause(error), saved=saved, what=Msg(what))
    )


def run_batch(
    count: int,
    request: Callable[[int], T],
    *,
    trouble: Callable[[LLMError], Msg | None],
    where: str,
    progress: Callable[[int, int], None] | None = None,
) -> list[T]:
    """request(i) for every i in range(count), CONCURRENCY at a time, in order. `trouble(error)` says
    why a failure is the server's (no connection, no answer in time), or None for a failure every
    request would meet. Raises PartialBatchError carrying the answers that arrived."""
    results: dict[int, T] = {}
    failures: list[LLMError] = []
    stopped: list[Msg] = []
    stop = threading.Event()
    breaker = Breaker()

    def one(index: int) -> None:
        if stop.is_set():
            return
        try:
            results[index] = request(index)
        except LLMError as error:
            failures.append(error)
            why = trouble(error)
            if why is None:
                stop.set()
            elif breaker.failure():
                stopped.append(why)
                stop.set()
            return
        breaker.success()

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        for future in as_completed([pool.submit(one, index) for index in range(count)]):
            future.result()
            if progress and not failures:
                progress(len(results), count)
    if len(results) == count:
        return [results[index] for index in range(count)]
    if stopped:
        problem = Msg("The API at {where} failed {count} requests in a row ({why}), so the batch stopped", where=where, count=FAILURES_IN_A_ROW, why=stopped[0])
    else:
        problem = failures[0].msg
    raise PartialBatchError(
        Msg("{problem} after {done} of {total} answers.", problem=Clause(problem), done=len(results), total=count),
        dict(sorted(results.items())),
        count,
        stopped=bool(stopped),
    ) from failures[0]
