"""One error family: every failure a user can cause or fix is a MercuryError whose str() is one sentence.

The CLI catches MercuryError in one place (exit code 2); pages show str(error). Subclasses say where
the failure came from; some also derive from a builtin (ValueError, RuntimeError) that callers
already catch.
"""
from __future__ import annotations


class MercuryError(Exception):
    """A failure a user can act on; str(error) is one plain sentence (English). Raised with a
    core.i18n.Msg, it carries the message id and values too, so a page renders it in its reader's
    language (core.i18n.render)."""

    def __init__(self, message="", *args):
        self.msg = message
        super().__init__(str(message), *args)


class UserError(MercuryError, ValueError):
    """Bad input from the person at the keyboard: an option, a path, a period, a brief, a brand, a config."""


class IngestError(MercuryError, ValueError):
    """A file we cannot use."""


class LimitError(IngestError):
    """A file that would expand past what the server may spend on it (size, rows, columns, depth)."""


class LLMError(MercuryError, RuntimeError):
    """A model or API that failed: unreachable, refusing, timing out, or answering nonsense."""


class PartialBatchError(LLMError):
    """A bulk call that failed part-way; `finished` maps a conversation's index to its answer, of
    `total`; `stopped` when it was the server failing requests in a row (not one refused request)."""

    def __init__(self, message: str, finished: dict, total: int, *, stopped: bool = False):
        super().__init__(message)
        self.finished, self.total, self.stopped = finished, total, stopped


class MailboxError(MercuryError, RuntimeError):
    """A mail server that failed: unreachable, refusing the login, timing out, or closing the connection."""


class JobCancelled(MercuryError):
    """Raised inside a job at the chunk after a person cancelled it (core/jobs): what is done is kept."""
