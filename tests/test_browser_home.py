"""The home page in a real browser: it loads, the sidebar works, a prompt streams an answer."""
import os
import sqlite3

import pytest

from tests.browser import CHROMIUM, chromium_page, streamlit_server
from tests.system_tools import requires

pytestmark = [pytest.mark.browser, requires(os.path.exists(CHROMIUM), "Chromium is installed by scripts/system-deps.sh")]


def test_home_generates_with_the_embedded_model_and_usage_counts_it(tmp_path):
    with streamlit_server(f"sqlite:///{tmp_path / 'browser.db'}") as url, chromium_page() as page:
        page.goto(url)
        page.get_by_text("Active backend:").wait_for()
        page.get_by_text("No model calls yet this month").wait_for()
        page.get_by_role("button", name="Generate").click()
        page.locator("[data-testid=stStatusWidget]").wait_for(state="visible")
        page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden")
        page.screenshot(path=str(tmp_path / "home.png"))
        page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Usage").click()
        page.get_by_text("Every call").wait_for()
        assert page.get_by_text("home", exact=True).first.is_visible()
    # the one call the page made is stored with its tokens: the answer really came from the model
    with sqlite3.connect(tmp_path / "browser.db") as connection:
        calls = connection.execute("select page, backend, ok, tokens_in, tokens_out from llm_call").fetchall()
    assert len(calls) == 1
    page_name, backend, ok, tokens_in, tokens_out = calls[0]
    assert (page_name, backend, ok) == ("home", "embedded", 1) and tokens_in > 5 and tokens_out > 0


def test_twenty_visitors_at_once_all_see_the_home_page(tmp_path):
    from tests.browser import first_renders

    with streamlit_server(f"sqlite:///{tmp_path / 'browser.db'}") as url:
        first_renders(url, 1)  # the first visit imports the pages; the crowd comes after
        visits = first_renders(url, 20, timeout_s=180)
    # every visitor got the whole page in their own session: the backend named, no error shown
    assert len(visits) == 20
    assert {v.backend_line for v in visits} == {"Active backend: Embedded · SmolLM2-135M-Instruct"}
    assert sum(v.errors for v in visits) == 0
