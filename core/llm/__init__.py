"""One interface to every model Mercury can use.

`complete`, `stream` and `complete_many` take chat messages and a BackendSpec; they fit the
input into the model's context window (with a visible note), tell the listeners the app installed
(`on_call`: core.usage stores a row) about every call, and raise LLMError with one plain sentence
on failure. Backends are the ones registered in core.llm.base, loaded once per process.
"""
from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

import jsonschema

from core.config import redact
from core.errors import LLMError, PartialBatchError
from core.i18n import Msg
from core.llm import embedded, openai_backend, transformers_backend  # noqa: F401 - each registers its backend
from core.llm.base import (
    Backend,
    BackendSpec,
    BackendType,
    Call,
    Completion,
    Message,
    Progress,
    backend_names,
    backend_type,
    backend_types,
    is_hosted,
    resolve_spec,
)
from core.llm.guarded import guard, guard_many
from core.shared import shared

__all__ = [
    "Backend",
    "BackendSpec",
    "BackendType",
    "Call",
    "Completion",
    "LLMError",
    "backend_names",
    "backend_types",
    "check_connection",
    "complete",
    "complete_json",
    "complete_json_many",
    "complete_many",
    "get_backend",
    "on_call",
    "resolve_spec",
    "stream",
]

# Room kept free in the window beside the answer itself: chat-template tokens and the truncation note.
CONTEXT_MARGIN_TOKENS = 64


def _cache_key(spec: BackendSpec) -> tuple:
    # The key itself is part of the identity (two keys, two clients) but is held only in memory.
    return (spec.kind, spec.model, spec.base_url, spec.api_key, spec.timeout, spec.max_retries)


def get_backend(spec: BackendSpec | None = None):
    """The loaded backend for a spec; models and clients are created once per process and shared."""
    spec = spec or resolve_spec()
    return shared(("llm",) + _cache_key(spec), lambda: _load(spec))


def _load(spec: BackendSpec):
    return backend_type(spec.kind).load(spec)


CallListener = Callable[[Call], None]
_listeners: list[CallListener] = []


def on_call(listener: CallListener) -> Callable[[], None]:
    """Have `listener` told about every model call, finished or failed (the app stores usage rows
    this way: core.usage.install). Returns the function that removes it again."""
    if listener not in _listeners:
        _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def _tell(call: Call) -> None:
    for listener in list(_listeners):
        listener(call)


def fit_to_window(backend, messages: Sequence[Message], max_tokens: int) -> tuple[list[Message], list[str]]:
    """Shorten the longest message until the conversation fits beside the answer; say so in a note."""
    budget = backend.context_window - max_tokens - CONTEXT_MARGIN_TOKENS
    if budget <= 0:
        raise LLMError(
            Msg(
                "The answer length ({max_tokens} tokens) does not fit the model's {context_window}-token window.",
                max_tokens=max_tokens,
                context_window=str(backend.context_window),
            )
        )
    fitted = [dict(m) for m in messages]
    sizes = [backend.count_tokens(m["content"]) for m in fitted]
    total = sum(sizes)
    if total <= budget:
        return fitted, []
    longest = max(range(len(fitted)), key=sizes.__getitem__)
    keep_tokens = max(0, sizes[longest] - (total - budget))
    content = fitted[longest]["content"]
    # Characters per token of this very text, so the cut lands close to the budget on the first try.
    keep_chars = int(len(content) * keep_tokens / max(1, sizes[longest]))
    while keep_chars > 0 and backend.count_tokens(content[:keep_chars]) > keep_tokens:
        keep_chars = int(keep_chars * 0.9)
    marker = "\n[... truncated to fit the model's context window ...]"
    fitted[longest]["content"] = content[:keep_chars] + marker
    note = f"The input was {total:,} tokens and the model reads at most {budget:,} beside its answer, so the end of the longest message was cut."
    return fitted, [note]


def _finish(completion: Completion, spec: BackendSpec, page: str, notes: list[str]) -> Completion:
    completion.notes = notes + completion.notes
    kind = backend_type(spec.kind)
    if kind.price is not None:
        completion.cost_usd = kind.price(completion, spec)
    _tell(Call(page, spec.kind, completion.model, completion.tokens_in, completion.tokens_out, completion.latency_s, completion.cost_usd, kind.hosted))
    return completion


@contextmanager
def _failures_recorded(spec: BackendSpec, page: str) -> Iterator[None]:
    """A failed call is recorded as a usage row (no tokens, the error) before its LLMError goes on."""
    started = time.perf_counter()
    try:
        yield
    except LLMError as error:
        elapsed = time.perf_counter() - started
        _tell(Call(page, spec.kind, spec.model, latency_s=elapsed, hosted=is_hosted(spec.kind), ok=False, error=redact(str(error), spec.api_key)))
        raise


def complete(
    messages: Sequence[Message],
    *,
    spec: BackendSpec | None = None,
    page: str = "cli",
    max_tokens: int = 256,
    temperature: float = 0.2,
    schema: dict | None = None,
) -> Completion:
    """One completion. A JSON `schema` goes to a backend that can constrain its answer to one (the
    OpenAI protocol's response format); the others see it only in the prompt complete_json writes."""
    spec = spec or resolve_spec()
    backend = get_backend(spec)
    fitted, notes = fit_to_window(backend, messages, max_tokens)
    with _failures_recorded(spec, page):
        completion = backend.complete(fitted, max_tokens=max_tokens, temperature=temperature, schema=schema)
    return _finish(completion, spec, page, notes)


def stream(
    messages: Sequence[Message],
    *,
    spec: BackendSpec | None = None,
    page: str = "cli",
    max_tokens: int = 256,
    temperature: float = 0.2,
) -> Iterator[str]:
    """Yield text as it is generated; the generator's return value is the finished Completion."""
    spec = spec or resolve_spec()
    backend = get_backend(spec)
    fitted, notes = fit_to_window(backend, messages, max_tokens)
    with _failures_recorded(spec, page):
        completion = yield from backend.stream(fitted, max_tokens=max_tokens, temperature=temperature)
    return _finish(completion, spec, page, notes)


def complete_many(
    conversations: Sequence[Sequence[Message]],
    *,
    spec: BackendSpec | None = None,
    page: str = "cli",
    max_tokens: int = 256,
    temperature: float = 0.2,
    progress: Progress | None = None,
) -> list[Completion]:
    """One answer per conversation, in order; local models batch, remote servers get concurrent requests."""
    spec = spec or resolve_spec()
    backend = get_backend(spec)
    fitted_all, notes_all = [], []
    for messages in conversations:
        fitted, notes = fit_to_window(backend, messages, max_tokens)
        fitted_all.append(fitted)
        notes_all.append(notes)
    try:
        with _failures_recorded(spec, page):
            completions = backend.complete_many(fitted_all, max_tokens=max_tokens, temperature=temperature, progress=progress)
    except PartialBatchError as error:
        for index, completion in error.finished.items():  # paid for: recorded even though the batch failed
            _finish(completion, spec, page, notes_all[index])
        raise
    return [_finish(c, spec, page, notes) for c, notes in zip(completions, notes_all)]


_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def parse_json_reply(text: str, schema: dict) -> dict:
    """The first JSON object in a reply, validated; raises ValueError with the reason."""
    cleaned = re.sub(r"^```(?:json)?|```$", "", text.strip(), flags=re.MULTILINE)
    match = _JSON_OBJECT.search(cleaned)
    if not match:
        raise ValueError("the reply holds no JSON object")
    try:
        value = json.loads(match.group(0))
    except json.JSONDecodeError as error:
        raise ValueError(f"the JSON does not parse ({error.msg})") from error
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as error:
        raise ValueError(f"the JSON does not match the schema ({error.message})") from error
    return value


def json_problems(text: str, schema: dict) -> list[str]:
    """Why a reply is not a JSON object matching schema (empty when it is)."""
    try:
        parse_json_reply(text, schema)
    except ValueError as problem:
        return [str(problem)]
    return []


def json_repair(conversation: Sequence[Message], text: str, problems: list[str]) -> list[Message]:
    """The conversation asking the model to correct a reply that failed json_problems."""
    return [
        *conversation,
        {"role": "assistant", "content": text},
        {"role": "user", "content": f"That was not valid: {problems[0]}. Reply with the corrected JSON object only."},
    ]


def json_instruction(schema: dict) -> Message:
    """The system message asking for one JSON object that matches `schema`."""
    return {"role": "system", "content": "Answer with one JSON object only, no prose, matching this JSON schema:\n" + json.dumps(schema, separators=(",", ":"))}


def complete_json(
    messages: Sequence[Message],
    schema: dict,
    *,
    spec: BackendSpec | None = None,
    page: str = "cli",
    max_tokens: int = 256,
    temperature: float = 0.0,
) -> tuple[dict, Completion]:
    """A JSON object that matches `schema`: asked for through the API's JSON-schema response format
    where the backend has one, and always checked here, with one repair attempt before a clear error
    (the path backends without structured output rely on)."""
    conversation = [json_instruction(schema), *messages]
    completions = [complete(conversation, spec=spec, page=page, max_tokens=max_tokens, temperature=temperature, schema=schema)]

    def repair(text: str, problems: list[str]) -> str:
        completions.append(
            complete(json_repair(conversation, text, problems), spec=spec, page=page, max_tokens=max_tokens, temperature=temperature, schema=schema)
        )
        return completions[-1].text

    def give_up(text: str, problems: list[str]) -> dict:
        raise LLMError(Msg("The model did not return valid JSON after one repair attempt: {problem}.", problem=problems[0]))

    result = guard(
        completions[0].text,
        lambda text: json_problems(text, schema),
        give_up,
        repair=repair,
        accept=lambda text: parse_json_reply(text, schema),
        fall_back_on_error=False,  # a failed repair call says why itself
    )
    return result.value, completions[-1]


def complete_json_many(
    conversations: Sequence[Sequence[Message]],
    schema: dict,
    *,
    spec: BackendSpec | None = None,
    page: str = "cli",
    max_tokens: int = 256,
    temperature: float = 0.0,
) -> list[dict | None]:
    """complete_json for a batch, under the bulk failure policy: one JSON object per conversation
    (None where the answer failed its one repair). A batch that stops raises PartialBatchError whose
    `finished` holds the objects that arrived and read well."""
    asked = [[json_instruction(schema), *messages] for messages in conversations]

    def ask(batch: list[list[Message]]) -> list[str]:
        return [c.text for c in complete_many(batch, spec=spec, page=page, max_tokens=max_tokens, temperature=temperature)]

    try:
        replies = ask(asked)
    except PartialBatchError as error:
        kept = {i: parse_json_reply(c.text, schema) for i, c in error.finished.items() if not json_problems(c.text, schema)}
        raise PartialBatchError(error.msg, kept, error.total, stopped=error.stopped) from error
    answers = guard_many(
        replies,
        lambda i, text: json_problems(text, schema),
        lambda i, text, problems: None,
        repair=lambda indexes, texts, problems: ask([json_repair(asked[i], t, p) for i, t, p in zip(indexes, texts, problems)]),
        accept=lambda i, text: parse_json_reply(text, schema),
    )
    return [answer.value for answer in answers]


def check_connection(spec: BackendSpec) -> tuple[bool, Msg]:
    """Load the backend and ask for a couple of tokens; one sentence either way."""
    try:
        completion = complete([{"role": "user", "content": "Reply with the word OK."}], spec=spec, page="connection test", max_tokens=4)
    except LLMError as error:
        return False, error.msg if isinstance(error.msg, Msg) else Msg(str(error))
    return True, Msg("Connected: {backend} answered in {seconds} s.", backend=spec.label, seconds=round(completion.latency_s, 1))
