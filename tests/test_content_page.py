"""The Content studio under AppTest: generate, edit, save, find it in the library."""
import pytest
from streamlit.testing.v1 import AppTest

from core.content.library import library_frame
from tests.conftest import ROOT


def generate_edit_and_save(at: AppTest) -> None:
    """Two X posts about the earbuds, the first edited and saved: what a marketer does on the page."""
    at.switch_page("app_pages/content.py").run()
    assert not at.exception
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
    assert not at.exception
    saved = library_frame()
    assert list(saved["text"]) == ["Thirty hours of battery, one tiny case. Meet Pulse."] and bool(saved["edited"].iloc[0])


@pytest.mark.model
def test_generate_edit_save_and_find_in_the_library():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300).run()
    generate_edit_and_save(at)
    saved = library_frame()
    assert at.text_input(key="content_query").set_value("tiny case").run().dataframe[0].value["id"].tolist() == [saved["id"].iloc[0]]


def test_an_unusable_sidebar_backend_stops_the_page_instead_of_using_another(monkeypatch):
    from core.usage import calls_frame

    monkeypatch.delenv("MERCURY_LOCAL_MODEL", raising=False)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300).run()
    at.radio(key="backend_kind").set_value("local").run()  # a local backend with no model named
    at.switch_page("app_pages/content.py").run()
    at.text_area(key="content_topic").set_value("Pulse earbuds").run()
    at.button(key="content_generate").click().run()
    assert not at.exception
    assert any("Fix the backend in the sidebar: nothing was sent to any model." in e.value for e in at.error)
    assert calls_frame().empty and library_frame().empty
