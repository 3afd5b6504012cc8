"""The one failure policy of every bulk path (sentiment by an LLM, reply batches with their triage,
model-lab evaluations): requests in flight at once, and the batch stops after a few failures in a
row instead of every request waiting out its own timeout and retries. Each request waits at most the
backend's timeout (OPENAI_TIMEOUT), so a hung server stops any batch in about that long.

What arrived before a batch stopped is paid for: it travels on PartialBatchError.finished, and the
caller saves it (scores in the score cache, drafts in the queue) so a rerun asks only for the rest."""
from __future__ import annotations

import threading

from core.errors import LLMError, PartialBatchError
from core.i18n import Clause, Msg

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
