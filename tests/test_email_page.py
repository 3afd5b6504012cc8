"""The Email replies page under AppTest: sample mail in, a draft, an edit, approval, export."""
import pytest
from streamlit.testing.v1 import AppTest

from core.mail.queue import get_email, queue_frame
from tests.conftest import ROOT


@pytest.mark.model
def test_sample_mail_draft_edit_approve_and_export():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300).run()
    at.switch_page("app_pages/email.py").run()
    assert not at.exception
    assert "The queue is empty" in at.info[0].value
    at.button(key="email_sample").click().run()
    assert not at.exception
    queue = queue_frame()
    assert len(queue) == 12 and queue.iloc[0]["urgency"] == "high"
    assert at.selectbox(key="email_pick").value in queue["id"].tolist()
    first = int(queue[queue["status"] == "new"].iloc[0]["id"])
    at.selectbox(key="email_pick").set_value(first).run()
    at.button(key="email_draft_one").click().run()
    assert not at.exception
    row = get_email(first)
    assert row.status == "drafted" and row.draft
    (area,) = [t for t in at.text_area if (t.key or "").startswith(f"email_draft_{first}_")]
    area.set_value(row.draft + "\nP.S. Thank you for your patience.").run()
    at.button(key="email_approve").click().run()
    assert not at.exception
    approved = get_email(first)
    assert approved.status == "approved" and approved.edited and "P.S." in approved.approved_text
    assert at.metric[3].value == "0%"
    labels = {b.label for b in at.get("download_button")}
    assert {"Download replies as .eml (zip)", "Download replies as CSV"} <= labels


def save_brand_button(at):
    return next(b for b in at.get("form_submit_button") if b.label == "Save brand profile")


def test_brand_profile_form_saves_and_rejects_a_nameless_brand():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page("app_pages/email.py").run()
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["Brand name"].set_value("Nimbus Tea")
    facts = [t for t in at.text_area if t.label.startswith("Facts the assistant may use")][0]
    facts.set_value("Our teas ship in 2 days.\nA tin of Nimbus Breakfast costs £8.")
    save_brand_button(at).click().run()
    assert not at.exception
    from core.brand import current_brand

    brand = current_brand()
    assert brand.name == "Nimbus Tea" and brand.facts == ["Our teas ship in 2 days.", "A tin of Nimbus Breakfast costs £8."]
    {t.label: t for t in at.text_input}["Brand name"].set_value("")
    save_brand_button(at).click().run()
    assert "A brand needs at least a name." in [e.value for e in at.error]
    assert current_brand().name == "Nimbus Tea"
