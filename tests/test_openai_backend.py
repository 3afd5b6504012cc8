"""The openai backend against a real loopback server speaking the chat-completions protocol."""
import pytest

from core.llm import BackendSpec, LLMError, check_connection, complete, complete_json, complete_many, stream
from core.usage import calls_frame
from tests.conftest import drain
from tests.openai_server import Reply, ScriptedOpenAIServer

MESSAGES = [{"role": "user", "content": "Say hello."}]


def spec_for(server, **overrides) -> BackendSpec:
    values = {"kind": "openai", "model": "gpt-4o-mini", "base_url": server.base_url, "api_key": "sk-test-123", "timeout": 5.0, "max_retries": 2}
    values.update(overrides)
    return BackendSpec(**values)


def test_success_returns_text_tokens_and_records_usage():
    with ScriptedOpenAIServer([Reply(text="Hi there!")]) as server:
        completion = complete(MESSAGES, spec=spec_for(server), page="tests")
    assert completion.text == "Hi there!"
    assert (completion.tokens_in, completion.tokens_out) == (11, 7)
    assert server.requests[0]["auth"] == "Bearer sk-test-123"
    calls = calls_frame()
    assert list(calls["page"]) == ["tests"]
    assert calls.iloc[0]["tokens_out"] == 7 and calls.iloc[0]["backend"] == "openai"


def test_streaming_yields_pieces_and_returns_the_completion():
    with ScriptedOpenAIServer([Reply(text="one two three")]) as server:
        generator = stream(MESSAGES, spec=spec_for(server))
        pieces, completion = drain(generator)
    assert len(pieces) == 3
    assert completion.text == "one two three"
    assert server.requests[0]["body"]["stream"] is True
    assert len(calls_frame()) == 1


def test_401_is_one_sentence_without_retry():
    with ScriptedOpenAIServer([Reply(status=401)]) as server:
        with pytest.raises(LLMError) as error:
            complete(MESSAGES, spec=spec_for(server))
    assert len(server.requests) == 1
    assert "rejected the key (401)" in str(error.value)
    assert "sk-test-123" not in str(error.value)
    failed = calls_frame()
    assert list(failed["ok"]) == [False]


def test_429_with_retry_after_is_retried_then_explained():
    with ScriptedOpenAIServer([Reply(status=429, headers={"Retry-After": "0.1"})]) as server:
        with pytest.raises(LLMError) as error:
            complete(MESSAGES, spec=spec_for(server))
    assert len(server.requests) == 3  # first try and the client's two retries
    assert str(error.value) == "The API kept rate-limiting the request (429) after 2 retries: wait a minute and try again."


def test_429_then_success_recovers():
    with ScriptedOpenAIServer([Reply(status=429, headers={"Retry-After": "0.1"}), Reply(text="Recovered.")]) as server:
        completion = complete(MESSAGES, spec=spec_for(server))
    assert completion.text == "Recovered."
    assert len(server.requests) == 2


def test_insufficient_quota_fails_at_once():
    with ScriptedOpenAIServer([Reply(status=429, error_code="insufficient_quota")]) as server:
        with pytest.raises(LLMError) as error:
            complete(MESSAGES, spec=spec_for(server))
    assert len(server.requests) == 1
    assert "no credit left (insufficient_quota)" in str(error.value)


def test_500_then_success_is_retried():
    with ScriptedOpenAIServer([Reply(status=500), Reply(text="Fine now.")]) as server:
        completion = complete(MESSAGES, spec=spec_for(server))
    assert completion.text == "Fine now."
    assert len(server.requests) == 2


@pytest.mark.slow
def test_a_hang_past_the_timeout_becomes_a_sentence():
    with ScriptedOpenAIServer([Reply(delay_s=3)]) as server:
        with pytest.raises(LLMError) as error:
            complete(MESSAGES, spec=spec_for(server, timeout=0.5, max_retries=1))
    assert len(server.requests) == 2
    assert str(error.value) == f"The API at {server.base_url} did not answer within 0.5 s: try again, or a smaller request."


def test_unreachable_server_names_the_address():
    spec = BackendSpec(kind="openai", model="m", base_url="http://127.0.0.1:9/v1", api_key="k", timeout=2, max_retries=0)
    with pytest.raises(LLMError, match="Could not reach the API at http://127.0.0.1:9/v1"):
        complete(MESSAGES, spec=spec)


def test_missing_key_for_openai_itself_is_a_sentence():
    ok, sentence = check_connection(BackendSpec(kind="openai", model="gpt-4o-mini"))
    assert not ok
    assert str(sentence).startswith("No API key is set for OpenAI")


def test_complete_many_keeps_order_over_concurrent_requests():
    with ScriptedOpenAIServer([Reply(text="same")]) as server:
        prompts = [[{"role": "user", "content": f"item {i}"}] for i in range(10)]
        seen = []
        completions = complete_many(prompts, spec=spec_for(server), progress=lambda done, total: seen.append((done, total)))
    assert len(completions) == 10
    assert sorted(r["body"]["messages"][0]["content"] for r in server.requests) == sorted(f"item {i}" for i in range(10))
    assert seen[-1] == (10, 10)
    assert len(calls_frame()) == 10


def test_json_output_gets_one_repair_attempt():
    schema = {"type": "object", "properties": {"label": {"enum": ["positive", "negative"]}}, "required": ["label"]}
    with ScriptedOpenAIServer([Reply(text="Sure! It is positive."), Reply(text='{"label": "positive"}')]) as server:
        value, _ = complete_json(MESSAGES, schema, spec=spec_for(server))
    assert value == {"label": "positive"}
    assert len(server.requests) == 2
    assert "That was not valid" in server.requests[1]["body"]["messages"][-1]["content"]


def test_json_is_asked_for_through_the_json_schema_response_format():
    schema = {"type": "object", "properties": {"label": {"enum": ["positive", "negative"]}}, "required": ["label"]}
    with ScriptedOpenAIServer([Reply(text='{"label": "negative"}')]) as server:
        value, _ = complete_json(MESSAGES, schema, spec=spec_for(server))
    assert value == {"label": "negative"}
    response_format = server.requests[0]["body"]["response_format"]
    assert response_format["type"] == "json_schema" and response_format["json_schema"]["schema"] == schema


def test_a_server_without_the_json_schema_format_is_asked_again_without_it_and_never_again_with_it():
    schema = {"type": "object", "properties": {"label": {"enum": ["positive", "negative"]}}, "required": ["label"]}
    replies = [
        Reply(status=400, message="response_format json_schema is not supported"),
        Reply(text='{"label": "positive"}'),
        Reply(text='{"label": "negative"}'),
    ]
    with ScriptedOpenAIServer(replies) as server:
        spec = spec_for(server)
        assert complete_json(MESSAGES, schema, spec=spec)[0] == {"label": "positive"}
        assert complete_json(MESSAGES, schema, spec=spec)[0] == {"label": "negative"}
    assert ["response_format" in r["body"] for r in server.requests] == [True, False, False]


def test_json_output_that_stays_invalid_is_a_clear_error():
    schema = {"type": "object", "properties": {"label": {"enum": ["positive", "negative"]}}, "required": ["label"]}
    with ScriptedOpenAIServer([Reply(text='{"label": "maybe"}')]) as server:
        with pytest.raises(LLMError, match="did not return valid JSON after one repair attempt"):
            complete_json(MESSAGES, schema, spec=spec_for(server))
    assert len(server.requests) == 2


def test_hosted_openai_calls_are_priced_from_genai_prices():
    from core.llm.openai_backend import api_cost_usd

    # gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens.
    assert api_cost_usd("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert api_cost_usd("a-model-nobody-prices", 1000, 1000) == 0.0


def test_a_body_that_is_not_json_is_one_sentence():
    with ScriptedOpenAIServer([Reply(raw=b"{this is not json")]) as server:
        with pytest.raises(LLMError) as error:
            complete(MESSAGES, spec=spec_for(server, max_retries=0))
    assert str(error.value) == f"The API at {server.base_url} answered with something that is not a chat completion: check the base URL."


@pytest.mark.slow
def test_a_dead_server_stops_a_batch_after_three_failures_and_keeps_what_arrived():
    conversations = [[{"role": "user", "content": f"question {i}"}] for i in range(40)]
    with ScriptedOpenAIServer([Reply(text="fine")] * 5 + [Reply(delay_s=3)]) as server:
        with pytest.raises(LLMError) as error:
            complete_many(conversations, spec=spec_for(server, timeout=0.5, max_retries=2))
    assert str(error.value) == (
        f"The API at {server.base_url} failed 3 requests in a row (no answer within 0.5 s), so the batch stopped after 5 of 40 answers."
    )
    assert len(error.value.finished) == 5 and error.value.stopped  # what arrived travels with the error, for the caller to save
    # Each request had the SDK's two retries; the breaker stopped the batch before every question was asked once.
    assert len(server.requests) < 40
    calls = calls_frame()
    assert calls["ok"].sum() == 5 and (~calls["ok"]).sum() == 1  # the answers that arrived are paid for and recorded
    with pytest.raises(LLMError, match=r"failed 3 requests in a row \(could not connect\)"):
        complete_many(conversations, spec=spec_for(server, base_url="http://127.0.0.1:9/v1"))
