"""A scripted backend, registered by the tests as any backend registers itself (core.llm.registry):
answers come from a function of the conversation, in microseconds, with no model loaded. Pages,
mail, content and reports are tested against it; the real models keep their own tests (marked
`model`). As simonw/llm's MockModel, it records every conversation it was asked.
"""
from __future__ import annotations

import threading
from typing import Callable, Iterator, Sequence

from core.llm.base import BackendSpec, BackendType, Completion, Message, Option, Progress, register, unregister

NAME = "scripted"
Script = Callable[[list[Message]], str]


def echo_last(messages: list[Message]) -> str:
    """The default script: say what the last message asked, so a test can see it arrived."""
    return "Scripted answer to: " + messages[-1]["content"][-200:]


class ScriptedBackend:
    kind = NAME
    context_window = 8192

    def __init__(self, spec: BackendSpec):
        self.model = spec.model or "script"
        self.asked: list[list[Message]] = []
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return max(1, len(text.split()))

    def _answer(self, messages: Sequence[Message]) -> Completion:
        conversation = [dict(m) for m in messages]
        with self._lock:
            self.asked.append(conversation)
        text = _scripts.get(self.model, echo_last)(conversation)
        tokens_in = sum(self.count_tokens(m["content"]) for m in conversation)
        return Completion(text=text, backend=NAME, model=self.model, tokens_in=tokens_in, tokens_out=self.count_tokens(text), latency_s=0.001)

    def complete(self, messages: Sequence[Message], *, max_tokens: int, temperature: float, schema: dict | None = None) -> Completion:
        return self._answer(messages)

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> Iterator[str]:
        completion = self._answer(messages)
        for word in completion.text.split(" "):
            yield word + " "
        return completion

    def complete_many(
        self, conversations: Sequence[Sequence[Message]], *, max_tokens: int, temperature: float, progress: Progress | None = None
    ) -> list[Completion]:
        done = []
        for conversation in conversations:
            done.append(self._answer(conversation))
            if progress:
                progress(len(done), len(conversations))
        return done


_scripts: dict[str, Script] = {}
backends: dict[str, ScriptedBackend] = {}


def load(spec: BackendSpec) -> ScriptedBackend:
    backends[spec.model] = ScriptedBackend(spec)
    return backends[spec.model]


def script(model: str, answer: Script) -> BackendSpec:
    """A spec whose backend answers with `answer(conversation)`; each model name is its own script."""
    _scripts[model] = answer
    return BackendSpec(kind=NAME, model=model)


def install() -> BackendType:
    return register(
        BackendType(
            name=NAME,
            label="Scripted",  # a test's backend: not in the catalogs, shown as written
            description="Scripted (tests)",
            resolve=lambda *, model=None, **_: BackendSpec(kind=NAME, model=model or "script"),
            load=load,
            options=(Option("model", "Model"),),
        )
    )


def uninstall() -> None:
    unregister(NAME)
