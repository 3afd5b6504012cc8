"""The server's key stays home: a visitor's base URL never receives it, and no error text stores it."""
import pytest
from streamlit.testing.v1 import AppTest

from core.llm import LLMError, complete, resolve_spec
from core.usage import calls_frame
from tests.conftest import ROOT
from tests.openai_server import Reply, ScriptedOpenAIServer

SERVER_KEY = "sk-server-secret-0123456789abcdef"


@pytest.fixture
def server_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SERVER_KEY)
    return SERVER_KEY


def sidebar_test_connection(base_url: str, typed_key: str = ""):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.radio(key="backend_kind").set_value("openai").run()
    if typed_key:
        at.text_input(key="backend_openai_api_key").input(typed_key).run()
    at.text_input(key="backend_openai_base_url").input(base_url).run()
    at.button(key="backend_test").click().run()
    assert not at.exception
    return at


def everything_sent(server: ScriptedOpenAIServer) -> str:
    return "\n".join(f"{r['path']} {r['headers']} {r['body']}" for r in server.requests)


def test_a_typed_base_url_never_receives_the_servers_key(server_key):
    with ScriptedOpenAIServer([Reply(text="OK")]) as attacker:
        at = sidebar_test_connection(attacker.base_url)
    assert attacker.requests, "the typed server was not called at all"
    assert server_key not in everything_sent(attacker)
    assert attacker.requests[0]["auth"] == "Bearer EMPTY"
    assert at.success[0].value.startswith("Connected")


def test_a_typed_base_url_gets_only_the_key_typed_with_it(server_key):
    with ScriptedOpenAIServer([Reply(text="OK")]) as attacker:
        sidebar_test_connection(attacker.base_url, typed_key="sk-visitor-own-key")
    assert attacker.requests[0]["auth"] == "Bearer sk-visitor-own-key"
    assert server_key not in everything_sent(attacker)


def test_the_configured_server_still_gets_the_configured_key(server_key, monkeypatch):
    with ScriptedOpenAIServer([Reply(text="OK")]) as team_server:
        monkeypatch.setenv("OPENAI_BASE_URL", team_server.base_url)
        sidebar_test_connection(team_server.base_url + "/")  # the same server, spelt with a trailing slash
    assert team_server.requests[0]["auth"] == f"Bearer {server_key}"


def test_an_allow_list_keeps_the_server_from_calling_other_addresses(server_key, monkeypatch):
    monkeypatch.setenv("MERCURY_ALLOWED_BASE_URLS", "http://gpu-box:8000/v1")
    with ScriptedOpenAIServer([Reply(text="OK")]) as internal:
        at = sidebar_test_connection(internal.base_url)
    assert internal.requests == []
    assert at.error[0].value.startswith("This server may call only these model servers: http://gpu-box:8000/v1")
    assert resolve_spec("openai", base_url="http://gpu-box:8000/v1/").base_url == "http://gpu-box:8000/v1/"
    with pytest.raises(LLMError, match="not an http"):
        resolve_spec("openai", base_url="file:///etc/passwd")


def test_an_error_that_echoes_the_key_is_scrubbed_before_it_is_stored_shown_or_exported(server_key, monkeypatch):
    with ScriptedOpenAIServer([Reply(status=400, message=f"Invalid key {SERVER_KEY} for model; also Bearer abcdefghijkl123")]) as team_server:
        monkeypatch.setenv("OPENAI_BASE_URL", team_server.base_url)
        with pytest.raises(LLMError) as error:
            complete([{"role": "user", "content": "hi"}], spec=resolve_spec("openai", model="m"), page="test")
    assert SERVER_KEY not in str(error.value) and "[redacted]" in str(error.value)
    stored = calls_frame()
    assert stored["ok"].tolist() == [False]
    exported = stored.to_csv()
    assert SERVER_KEY not in exported and "abcdefghijkl123" not in exported
