"""What every backend shares: the request spec, the result, and the one-sentence error."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol, Sequence

from core.config import setting

Message = dict  # {"role": "system"|"user"|"assistant", "content": str}
Progress = Callable[[int, int], None]


class LLMError(RuntimeError):
    """A failure a user can act on; str(error) is one plain sentence."""


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
    def label(self) -> str:
        names = {"embedded": "Embedded", "local": "Local model", "openai": "OpenAI-compatible"}
        return f"{names.get(self.kind, self.kind)} · {self.model}" if self.model else names.get(self.kind, self.kind)


def resolve_spec(
    kind: str | None = None,
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: float | None = None,
) -> BackendSpec:
    """Fill a spec from explicit values, then environment / secrets, then defaults."""
    from core.llm.embedded import EMBEDDED_MODEL_NAME

    kind = setting("MERCURY_BACKEND", kind).lower()
    if kind not in ("embedded", "local", "openai"):
        raise LLMError(f"Unknown backend '{kind}': choose embedded, local or openai.")
    if kind == "embedded":
        return BackendSpec(kind="embedded", model=EMBEDDED_MODEL_NAME)
    if kind == "local":
        local_model = setting("MERCURY_LOCAL_MODEL", model)
        if not local_model:
            raise LLMError("The local backend needs a model: give a transformers model id or a local folder.")
        return BackendSpec(kind="local", model=local_model)
    return BackendSpec(
        kind="openai",
        model=setting("OPENAI_MODEL", model),
        base_url=setting("OPENAI_BASE_URL", base_url),
        api_key=setting("OPENAI_API_KEY", api_key),
        timeout=float(timeout if timeout is not None else setting("OPENAI_TIMEOUT")),
        max_retries=int(setting("OPENAI_MAX_RETRIES")),
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

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float
    ) -> Iterator[str]:  # returns a Completion as the generator's value
        ...

    def complete_many(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_tokens: int,
        temperature: float,
        progress: Progress | None = None,
    ) -> list[Completion]: ...
