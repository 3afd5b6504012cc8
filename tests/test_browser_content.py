"""Generate, edit and save a variant in a real browser."""
import os

import pytest

from core.content.library import library_frame
from tests.browser import CHROMIUM, chromium_page, streamlit_server
from tests.openai_server import Reply, ScriptedOpenAIServer
from tests.system_tools import requires

pytestmark = [pytest.mark.browser, requires(os.path.exists(CHROMIUM), "Chromium is installed by scripts/system-deps.sh")]


def test_generate_edit_and_save_a_variant(tmp_path):
    # A loopback OpenAI-protocol server writes the variants, so the browser flow does not wait on a
    # 2-core CPU model; the embedded backend is exercised by the AppTest and the unit tests.
    posts = [Reply(text=t) for t in ("Thirty hours of battery. #Pulse", "Pocket-size case, all-day sound.", "Your commute, now with a soundtrack.")]
    backend = {"MERCURY_BACKEND": "openai", "OPENAI_API_KEY": "sk-test", "OPENAI_MODEL": "writer"}
    with (
        ScriptedOpenAIServer(posts) as server,
        streamlit_server(os.environ["DATABASE_URL"], {**backend, "OPENAI_BASE_URL": server.base_url}) as url,
        chromium_page(1400, 1600) as page,
    ):
        page.goto(url)
        page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Content studio").click()
        topic = page.get_by_label("Brief or topic").first  # the Create tab's; Personalise has its own
        topic.fill("Pulse earbuds: 30 hours of battery")
        topic.press("Control+Enter")
        page.get_by_role("button", name="Generate variants").click()
        page.get_by_text("Variant 1").wait_for()
        text = page.get_by_label("Text", exact=True).first
        text.fill("Thirty hours of battery in one tiny case. Meet Pulse.")
        text.press("Control+Enter")
        page.get_by_role("button", name="Save to library").first.click()
        page.get_by_text("Saved as #").wait_for()
        page.screenshot(path=str(tmp_path / "content.png"))
    saved = library_frame()
    assert list(saved["text"]) == ["Thirty hours of battery in one tiny case. Meet Pulse."]
