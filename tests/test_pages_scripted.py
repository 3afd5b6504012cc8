"""Pages under AppTest with the scripted backend chosen in the sidebar: what a marketer clicks, in
milliseconds, with no model loaded (the same flows on the real embedded model are marked `model`)."""
from streamlit.testing.v1 import AppTest

from core.content.library import library_frame
from core.usage import calls_frame
from tests.conftest import ROOT

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
    at.switch_page("app_pages/content.py").run()
    at.selectbox(key="content_kind").set_value("social").run()
    at.selectbox(key="content_platform").set_value("x")
    at.text_area(key="content_topic").set_value("Pulse earbuds: 30 hours of battery")
    at.text_input(key="content_keywords").set_value("battery")
    at.slider(key="content_variants").set_value(2).run()
    at.button(key="content_generate").click().run()
    assert not at.exception
    texts = [t for t in at.text_area if (t.key or "").startswith("content_text_")]
    assert len(texts) == 2 and all(len(t.value) <= 280 for t in texts)
    texts[0].set_value("Thirty hours of battery, one tiny case. Meet Pulse.").run()
    at.button(key="content_save_0").click().run()
    saved = library_frame()
    assert list(saved["text"]) == ["Thirty hours of battery, one tiny case. Meet Pulse."] and bool(saved["edited"].iloc[0])
    assert set(calls_frame()["page"]) == {"content"}
