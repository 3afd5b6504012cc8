"""Pages under AppTest with the scripted backend chosen in the sidebar: what a marketer clicks, in
milliseconds, with no model loaded (the same flows on the real embedded model are marked `model`)."""
from streamlit.testing.v1 import AppTest

from core.usage import calls_frame
from tests.conftest import ROOT
from tests.test_content_page import generate_edit_and_save

POST = "Thirty hours of battery in a case that fits any pocket: Pulse earbuds are here."


def app(monkeypatch) -> AppTest:
    monkeypatch.setenv("MERCURY_BACKEND", "scripted")
    return AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()


def test_home_streams_the_answer_and_counts_the_call(scripted_backend, monkeypatch):
    scripted_backend.script("script", lambda messages: "Thank you for choosing Aria, Dana!")
    at = app(monkeypatch)
    assert "Scripted · script" in at.info[0].value
    next(b for b in at.get("form_submit_button") if b.label == "Generate").click().run()
    assert not at.exception
    assert any("Thank you for choosing Aria, Dana!" in m.value for m in at.markdown)
    calls = calls_frame()
    assert list(calls["page"]) == ["home"] and list(calls["backend"]) == ["scripted"]


def test_content_studio_generates_edits_saves_and_finds_a_post(scripted_backend, monkeypatch):
    scripted_backend.script("script", lambda messages: POST)
    at = app(monkeypatch)
    generate_edit_and_save(at)
    assert set(calls_frame()["page"]) == {"content"}
