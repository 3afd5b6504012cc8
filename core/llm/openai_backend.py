"""The OpenAI API or any server that speaks its chat-completions protocol (vLLM, Ollama, LM Studio)."""
from __future__ import annotations

import json
import time
from functools import lru_cache
from typing import Iterator, Sequence

import httpx2

from core.config import redact, setting
from core.errors import LLMError
from core.i18n import N_, Msg
from core.llm.base import OPENAI_DEFAULT_BASE_URL, BackendSpec, BackendType, Completion, Message, Option, Progress, check_base_url, register, same_endpoint
from core.llm.bulk import run_batch

# Hosted models have windows of 128k tokens or more; compatible servers report nothing, so assume a safe size.
DEFAULT_CONTEXT_WINDOW = 32_768


def _sdk():
    """The OpenAI SDK, imported when a backend first uses it: at module level it cost every command half a second of start-up."""
    import openai

    return openai


def _is_insufficient_quota(response) -> bool:
    """A 429 because the account has no credit left: waiting cannot refill it."""
    try:
        response.read()
        body = json.loads(response.text or "{}")
    except (ValueError, RuntimeError):
        return False
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and "insufficient_quota" in (error.get("code"), error.get("type"))


class _EmptyAccountIsFinal(httpx2.HTTPTransport):
    """The SDK retries a 429 like any rate limit unless the server marks it `x-should-retry: false`,
    as OpenAI's servers do for requests not worth repeating. An empty account gets that mark here,
    so it fails at once; every other retry is the SDK's own (max_retries, backoff, Retry-After)."""

    def handle_request(self, request):
        response = super().handle_request(request)
        if response.status_code == 429 and "x-should-retry" not in response.headers and _is_insufficient_quota(response):
            response.headers["x-should-retry"] = "false"
        return response


@lru_cache(maxsize=16)
def token_encoding(model: str):
    """OpenAI's tokenizer for the model (tiktoken's encodings, shipped inside bpe-openai, so nothing is
    downloaded); o200k_base, today's, for a model it does not know (a compatible server's Llama or
    Qwen counts within about 10% of it, where four characters a token undercounts Chinese threefold)."""
    import bpe_openai

    try:
        return bpe_openai.encoding_for_model(model)
    except bpe_openai.UnsupportedModelError:
        return bpe_openai.get_encoding("o200k_base")


def explain(error: Exception, spec: BackendSpec) -> Msg:
    """Turn the client's typed errors into the one sentence the user sees, with no key in it."""
    message = _explain(error, spec)
    return Msg(message.text, **{k: redact(v, spec.api_key) if isinstance(v, str) else v for k, v in message.values.items()})


def _explain(error: Exception, spec: BackendSpec) -> Msg:
    where = spec.address
    if isinstance(error, _sdk().AuthenticationError):
        return Msg("The API at {where} rejected the key (401): check OPENAI_API_KEY or the key typed in the sidebar.", where=where)
    if isinstance(error, _sdk().PermissionDeniedError):
        return Msg("The API at {where} refused access to the model '{model}' (403).", where=where, model=spec.model)
    if isinstance(error, _sdk().RateLimitError):
        if _is_insufficient_quota(error.response):
            return Msg("The API account has no credit left (insufficient_quota): add billing or switch to another backend.")
        return Msg("The API kept rate-limiting the request (429) after {retries} retries: wait a minute and try again.", retries=spec.max_retries)
    if isinstance(error, _sdk().APITimeoutError):
        return Msg("The API at {where} did not answer within {seconds} s: try again, or a smaller request.", where=where, seconds=spec.timeout)
    if isinstance(error, _sdk().APIConnectionError):
        return Msg("Could not reach the API at {where}: check the base URL and that the server is running.", where=where)
    if isinstance(error, _sdk().NotFoundError):
        return Msg("The model '{model}' was not found at {where}.", model=spec.model, where=where)
    if isinstance(error, _sdk().BadRequestError):
        return Msg("The API refused the request (400): {problem}", problem=str(getattr(error, "message", error)))
    if isinstance(error, _sdk().APIStatusError):
        return Msg(
            "The API at {where} failed with status {status} after {retries} retries.", where=where, status=str(error.status_code), retries=spec.max_retries
        )
    return Msg("The API call failed: {problem}", problem=str(error))


def not_a_completion(spec: BackendSpec) -> Msg:
    return Msg("The API at {where} answered with something that is not a chat completion: check the base URL.", where=spec.address)


class OpenAIBackend:
    kind = "openai"

    def __init__(self, spec: BackendSpec):
        api_key = spec.api_key
        if not api_key:
            if not spec.base_url or spec.base_url.rstrip("/") == OPENAI_DEFAULT_BASE_URL:
                raise LLMError(
                    Msg("No API key is set for OpenAI: add OPENAI_API_KEY to the environment or .streamlit/secrets.toml, or type it in the sidebar.")
                )
            # Self-hosted servers (vLLM, Ollama) usually accept any key; the client insists on one.
            api_key = "EMPTY"
        if not spec.model:
            raise LLMError(Msg("The OpenAI backend needs a model name."))
        self.spec = spec
        self.model = spec.model
        self.context_window = DEFAULT_CONTEXT_WINDOW
        self.client = _sdk().OpenAI(
            api_key=api_key,
            base_url=spec.base_url or None,
            timeout=spec.timeout,
            max_retries=spec.max_retries,
            http_client=_sdk().DefaultHttpxClient(transport=_EmptyAccountIsFinal()),
        )

    schema_refused = False  # set once a server answers a JSON-schema request with 400

    def count_tokens(self, text: str) -> int:
        return max(1, len(token_encoding(self.model).encode(text, disallowed_special=())))

    def _request(self, messages, max_tokens: int, temperature: float, **extra):
        try:
            return self.client.chat.completions.create(
                model=self.model,
                messages=list(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                **extra,
            )
        except _sdk().OpenAIError as error:
            raise LLMError(explain(error, self.spec)) from error
        except ValueError as error:  # a body that is not the JSON the protocol promises
            raise LLMError(not_a_completion(self.spec)) from error

    def complete(self, messages: Sequence[Message], *, max_tokens: int, temperature: float, schema: dict | None = None) -> Completion:
        """One chat completion. With a `schema`, the answer is asked for through the API's JSON-schema
        response format (OpenAI, and vLLM's guided decoding behind the same field); a server that
        refuses the field is asked again without it, and not asked with it again."""
        started = time.perf_counter()
        if schema and not self.schema_refused:
            try:
                response = self._request(messages, max_tokens, temperature, response_format=_response_format(schema))
            except LLMError as error:
                if not isinstance(error.__cause__, _sdk().BadRequestError):
                    raise
                self.schema_refused = True
                response = self._request(messages, max_tokens, temperature)
        else:
            response = self._request(messages, max_tokens, temperature)
        choice = response.choices[0] if response.choices else None
        text = (choice.message.content or "") if choice else ""
        usage = response.usage
        return Completion(
            text=text.strip(),
            backend=self.kind,
            model=response.model or self.model,
            tokens_in=usage.prompt_tokens if usage else sum(self.count_tokens(m["content"]) for m in messages),
            tokens_out=usage.completion_tokens if usage else self.count_tokens(text),
            latency_s=time.perf_counter() - started,
        )

    def complete_many(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_tokens: int,
        temperature: float,
        progress: Progress | None = None,
    ) -> list[Completion]:
        """A few requests in flight (a remote server batches on its side, as vLLM does), under the
        bulk failure policy of core/llm/bulk.py. The error carries the completions that did arrive."""
        return run_batch(
            len(conversations),
            lambda index: self.complete(conversations[index], max_tokens=max_tokens, temperature=temperature),
            trouble=self._trouble,
            where=self.spec.address,
            progress=progress,
        )

    def _trouble(self, error: LLMError) -> Msg | None:
        """Why a failed request is the server's trouble (counted by the bulk breaker), or None."""
        if isinstance(error.__cause__, _sdk().APITimeoutError):
            return Msg("no answer within {seconds} s", seconds=self.spec.timeout)
        if isinstance(error.__cause__, _sdk().APIConnectionError):
            return Msg("could not connect")
        return None

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> Iterator[str]:
        started = time.perf_counter()
        response = self._request(messages, max_tokens, temperature, stream=True, stream_options={"include_usage": True})
        pieces: list[str] = []
        usage, chunks = None, 0
        try:
            for chunk in response:
                chunks += 1
                if chunk.usage:
                    usage = chunk.usage
                for choice in chunk.choices or []:
                    piece = choice.delta.content if choice.delta else None
                    if piece:
                        pieces.append(piece)
                        yield piece
        except _sdk().OpenAIError as error:
            raise LLMError(explain(error, self.spec)) from error
        except ValueError as error:  # a stream chunk that is not JSON
            raise LLMError(not_a_completion(self.spec)) from error
        if not chunks:  # a body that is no event stream at all (a 200 of malformed JSON, an HTML page)
            raise LLMError(not_a_completion(self.spec))
        text = "".join(pieces)
        return Completion(
            text=text.strip(),
            backend=self.kind,
            model=self.model,
            tokens_in=usage.prompt_tokens if usage else sum(self.count_tokens(m["content"]) for m in messages),
            tokens_out=usage.completion_tokens if usage else self.count_tokens(text),
            latency_s=time.perf_counter() - started,
        )


def _response_format(schema: dict) -> dict:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": False}}


def api_cost_usd(model: str, tokens_in: int, tokens_out: int, base_url: str = "") -> float:
    """Price of a hosted call from the maintained `genai-prices` tables; 0 for models it does not know."""
    from genai_prices import Usage, calc_price

    try:
        if base_url:
            price = calc_price(Usage(input_tokens=tokens_in, output_tokens=tokens_out), model, provider_api_url=base_url)
        else:
            price = calc_price(Usage(input_tokens=tokens_in, output_tokens=tokens_out), model, provider_id="openai")
    except (LookupError, ValueError):
        return 0.0
    return float(price.total_price)


def price(completion: Completion, spec: BackendSpec) -> float:
    return api_cost_usd(completion.model, completion.tokens_in, completion.tokens_out, spec.base_url)


def resolve_openai(*, model: str | None = None, base_url: str | None = None, api_key: str | None = None, timeout: float | None = None) -> BackendSpec:
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


register(
    BackendType(
        name="openai",
        label=N_("OpenAI-compatible"),
        description=N_("OpenAI or compatible"),
        resolve=resolve_openai,
        load=OpenAIBackend,
        hosted=True,
        price=price,
        order=20,
        options=(
            Option(
                "api_key",
                N_("API key"),
                setting="OPENAI_API_KEY",
                secret=True,
                placeholder="sk-...",
                help=N_(
                    "Kept for this browser session only; never saved. When this is empty, the server's own "
                    "OPENAI_API_KEY is used, and only for the base URL the server was configured with."
                ),
            ),
            Option(
                "base_url",
                N_("Base URL"),
                setting="OPENAI_BASE_URL",
                placeholder=OPENAI_DEFAULT_BASE_URL,
                help=N_("Leave empty for OpenAI; for vLLM, Ollama or LM Studio give their /v1 address."),
            ),
            Option("model", N_("Model"), setting="OPENAI_MODEL"),
        ),
    )
)
