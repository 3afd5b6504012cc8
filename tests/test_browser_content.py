"""Generate, edit and save a variant in a real browser."""
import os

import pytest

from core.content import library_frame
from tests.browser import CHROMIUM, chromium_page, streamlit_server

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is installed by scripts/system-deps.sh")


def test_generate_edit_and_save_a_variant(tmp_path):
    with streamlit_server(os.environ["DATABASE_URL"]) as url, chromium_page(1400, 1600) as page:
        page.goto(url)
        page.get_by_role("link", name="Content studio").click()
        topic = page.get_by_label("Brief or topic").first  # the Create tab's; Personalise has its own
        topic.fill("Pulse earbuds: 30 hours of battery")
        topic.press("Control+Enter")
        page.get_by_role("button", name="Generate variants").click()
        page.get_by_text("Variant 1").wait_for(timeout=180_000)
        text = page.get_by_label("Text", exact=True).first
        text.fill("Thirty hours of battery in one tiny case. Meet Pulse.")
        text.press("Control+Enter")
        page.get_by_role("button", name="Save to library").first.click()
        page.get_by_text("Saved as #").wait_for()
        page.screenshot(path=str(tmp_path / "content.png"))
    saved = library_frame()
    assert list(saved["text"]) == ["Thirty hours of battery in one tiny case. Meet Pulse."]
