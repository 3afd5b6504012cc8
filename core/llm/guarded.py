"""Guarded generation, the one shape every writer in Mercury follows: the model writes, code
checks, the model gets one chance to repair what the check found, and code falls back to text it
writes itself (or a clear error) when the repair fails too. Email drafts, report summaries,
content variants, JSON answers and LLM sentiment labels all go through `guard_many`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Generic, Sequence, TypeVar

from core.errors import LLMError

T = TypeVar("T")
Check = Callable[[int, str], list[str]]  # (index, text) -> problems; empty when the text may be used
Repair = Callable[[list[int], list[str], list[list[str]]], list[str]]  # (indexes, texts, problems) -> new texts, one call


@dataclass
class Guarded(Generic[T]):
    value: T  # the model's text (or what `accept` made of it), or the fallback
    source: str  # "model", "repaired" (the model's second try) or "fallback"
    rounds: list[list[str]] = field(default_factory=list)  # the problems found on each refused try

    @property
    def problems(self) -> list[str]:
        return self.rounds[-1] if self.rounds else []


def guard_many(
    texts: Sequence[str],
    check: Check,
    fallback: Callable[[int, str, list[str]], T],
    *,
    repair: Repair | None = None,
    accept: Callable[[int, str], T] = lambda i, text: text,  # type: ignore[assignment,return-value]
    fall_back_on_error: bool = True,
) -> list[Guarded[T]]:
    """Check every text; repair the refused ones in one batched call; fall back for those still
    refused (the fallback sees the last text and its problems). A repair that fails with an
    LLMError counts as refused, with the error as its problem; with fall_back_on_error=False the
    error goes to the caller instead, as a failed call would."""
    texts = list(texts)
    rounds: list[list[list[str]]] = [[] for _ in texts]
    problems = [check(i, t) for i, t in enumerate(texts)]
    refused = [i for i, p in enumerate(problems) if p]
    repaired: set[int] = set()
    if refused and repair:
        for i in refused:
            rounds[i].append(problems[i])
        try:
            fresh = repair(refused, [texts[i] for i in refused], [problems[i] for i in refused])
        except LLMError as error:
            if not fall_back_on_error:
                raise
            fresh = None
            for i in refused:
                problems[i] = [f"the repair failed: {error}"]
        for i, text in zip(refused, fresh or []):
            texts[i], problems[i] = text, check(i, text)
            repaired.add(i)
    out = []
    for i, text in enumerate(texts):
        if problems[i]:
            rounds[i].append(problems[i])
            out.append(Guarded(fallback(i, text, problems[i]), "fallback", rounds[i]))
        else:
            out.append(Guarded(accept(i, text), "repaired" if i in repaired else "model", rounds[i]))
    return out


def guard(
    text: str,
    check: Callable[[str], list[str]],
    fallback: Callable[[str, list[str]], T],
    *,
    repair: Callable[[str, list[str]], str] | None = None,
    accept: Callable[[str], T] = lambda text: text,  # type: ignore[assignment,return-value]
    fall_back_on_error: bool = True,
) -> Guarded[T]:
    """guard_many for one text."""
    return guard_many(
        [text],
        lambda _, t: check(t),
        lambda _, t, problems: fallback(t, problems),
        repair=(lambda _, texts, problems: [repair(texts[0], problems[0])]) if repair else None,
        accept=lambda _, t: accept(t),
        fall_back_on_error=fall_back_on_error,
    )[0]
