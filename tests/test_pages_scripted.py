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


def test_email_actions_that_fail_show_their_sentence_after_the_rerun(scripted_backend, monkeypatch):
    """*Draft a reply* and *Regenerate* rerun the page after they act: their error must outlive it."""
    from core.errors import LLMError

    def refuse(messages):
        raise LLMError("The server refused the request: quota exceeded.")

    from core.mail.queue import add_emails
    from core.mail.reading import parse_text

    add_emails([parse_text("Subject: Pairing\n\nMy Pulse earbuds will not pair with my phone.")], "pasted")
    scripted_backend.script("script", refuse)
    at = app(monkeypatch).switch_page("app_pages/email.py").run()
    at.button(key="email_draft_one").click().run()
    assert not at.exception
    fell_back = "The server refused the request: quota exceeded; email 1 got a reply written from the Brand profile's facts instead."
    assert [e.value for e in at.error] == [fell_back]
    at.text_input(key="email_instruction").set_value("shorter").run()
    at.button(key="email_regenerate").click().run()
    assert [e.value for e in at.error] == ["The server refused the request: quota exceeded."]
