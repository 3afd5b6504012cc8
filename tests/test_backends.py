"""One registry of backends: a backend registered once shows in the sidebar, the CLI and the Model
lab, answers through core.llm, and its calls reach the usage table through the listener the app
installs. Every backend Mercury ships has the methods core.llm calls, with the arguments it passes."""
from __future__ import annotations

import inspect

import pytest
from streamlit.testing.v1 import AppTest

from core.cli import build_parser
from core.llm import Backend, backend_names, complete, complete_many, on_call, resolve_spec
from core.llm.base import backend_type
from core.llm.openai_backend import OpenAIBackend
from core.llm.transformers_backend import TransformersBackend
from core.usage import calls_frame
from tests import scripted
from tests.conftest import ROOT


def _protocol_methods() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(getattr(Backend, name)) for name in ("count_tokens", "complete", "stream", "complete_many")}


@pytest.mark.parametrize("cls", [TransformersBackend, OpenAIBackend, scripted.ScriptedBackend], ids=lambda c: c.__name__)
def test_every_backend_takes_what_core_llm_passes(cls):
    for name, wanted in _protocol_methods().items():
        have = inspect.signature(getattr(cls, name)).parameters
        missing = [p for p in wanted.parameters if p != "self" and p not in have]
        assert not missing, f"{cls.__name__}.{name} lacks {missing}"


def test_a_loaded_backend_is_a_backend(scripted_backend):
    from core.llm import get_backend

    assert isinstance(get_backend(resolve_spec("scripted", model="protocol")), Backend)


def test_a_registered_backend_is_in_the_cli_choices_and_answers(scripted_backend, capsys):
    assert backend_names()[:3] == ("embedded", "local", "openai") and "scripted" in backend_names()
    choices = next(a.choices for a in build_parser()._subparsers._group_actions[0].choices["generate"]._actions if a.dest == "backend")
    assert "scripted" in choices
    spec = scripted.script("shout", lambda messages: messages[-1]["content"].upper())
    assert complete([{"role": "user", "content": "hello there"}], spec=spec).text == "HELLO THERE"
    assert [c.text for c in complete_many([[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]], spec=spec)] == ["A", "B"]
    assert spec.label.text == "{backend} · {model}" and str(spec.label.values["backend"]) == "Scripted"


def test_usage_rows_come_from_the_listener_the_app_installs(scripted_backend):
    spec = scripted.script("counted", lambda messages: "ok")
    heard = []
    remove = on_call(heard.append)
    try:
        complete([{"role": "user", "content": "one two three"}], spec=spec, page="email")
    finally:
        remove()
    assert [(c.page, c.backend, c.model, c.tokens_in, c.tokens_out, c.ok) for c in heard] == [("email", "scripted", "counted", 3, 1, True)]
    complete([{"role": "user", "content": "not heard"}], spec=spec)
    assert len(heard) == 1
    frame = calls_frame()  # the tests install core.usage's listener, as the app and the CLI do
    assert list(frame["page"]) == ["cli", "email"] and set(frame["backend"]) == {"scripted"}
    assert backend_type("scripted").hosted is False and frame["compute_s"].gt(0).all()


def test_a_registered_backend_is_in_the_sidebar_and_the_model_lab(scripted_backend, monkeypatch):
    monkeypatch.setenv("MERCURY_BACKEND", "scripted")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    radio = at.sidebar.radio(key="backend_kind")
    assert "Scripted (tests)" in radio.options and radio.value == "scripted"
    at.switch_page("app_pages/lab.py").run()
    assert not at.exception
    offered = [option for box in at.multiselect for option in box.options]
    assert "The sidebar's LLM backend (Scripted · script), batched, JSON output" in offered, offered
