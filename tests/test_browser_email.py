"""Review, edit, approve and download a reply in a real browser."""
import io
import os

import pandas as pd
import pytest

from core.brand import current_brand
from core.llm import BackendSpec
from core.mail.queue import add_emails, draft_email, get_email
from core.mail.reading import parse_text
from tests.browser import CHROMIUM, chromium_page, streamlit_server
from tests.openai_server import Reply, ScriptedOpenAIServer
from tests.system_tools import requires

pytestmark = [pytest.mark.browser, requires(os.path.exists(CHROMIUM), "Chromium is installed by scripts/system-deps.sh")]


def test_edit_approve_and_download_a_reply(tmp_path):
    mail = parse_text("From: Tom Becker <tom@example.org>\nSubject: Where is my refund?\n\nI sent my headset back. When will I get my money?\n")
    (email_id,) = add_emails([mail], "test")
    answer = "Hi Tom,\n\nRefunds reach the original payment method within 5 working days after the return arrives at our warehouse."
    with ScriptedOpenAIServer([Reply(text=answer)]) as server:
        draft_email(email_id, current_brand(), spec=BackendSpec(kind="openai", model="m", base_url=server.base_url, api_key="k", timeout=5.0))
    with streamlit_server(os.environ["DATABASE_URL"]) as url, chromium_page(1400, 1400) as page:
        page.goto(url)
        page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Email replies").click()
        page.get_by_role("tab", name="Review").click()
        draft = page.get_by_label("Draft (edit freely before approving)")
        draft.wait_for()
        assert "5 working days" in draft.input_value()
        draft.fill(draft.input_value().replace("Hi Tom,", "Dear Tom,"))
        draft.press("Control+Enter")
        page.get_by_role("button", name="Approve", exact=True).click()
        page.get_by_text("The queue is empty").wait_for()
        page.get_by_role("tab", name="Approved & export").click()
        with page.expect_download() as download:
            page.get_by_role("button", name="Download replies as CSV").click()
        frame = pd.read_csv(io.BytesIO(open(download.value.path(), "rb").read()), encoding="utf-8-sig")
        page.screenshot(path=str(tmp_path / "email.png"))
    assert frame.loc[0, "reply"].startswith("Dear Tom,") and bool(frame.loc[0, "edited"])
    assert get_email(email_id).status == "approved"
