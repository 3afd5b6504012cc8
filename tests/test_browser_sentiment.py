"""Upload a CSV in a real browser and see the dashboard's charts."""
import os

import pytest

from tests.browser import CHROMIUM, chromium_page, streamlit_server
from tests.system_tools import requires

pytestmark = [pytest.mark.browser, requires(os.path.exists(CHROMIUM), "Chromium is installed by scripts/system-deps.sh")]


def test_upload_a_csv_and_see_the_charts(tmp_path):
    rows = ["date;product;text"]
    for day in range(1, 29):
        rows.append(f"2026-02-{day:02d};Kettle;Boils fast and looks lovely on the counter")
        rows.append(f"2026-02-{day:02d};Toaster;Burnt every slice and the lever broke")
    upload = tmp_path / "kitchen.csv"
    upload.write_text("\n".join(rows), encoding="utf-8-sig")
    with streamlit_server(f"sqlite:///{tmp_path / 'browser.db'}") as url, chromium_page(1400, 1600) as page:
        page.goto(url)
        page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Sentiment").click()
        page.get_by_text("No reviews yet").wait_for()
        page.locator("input[type=file]").set_input_files(str(upload))
        page.get_by_text("56 rows read, 0 skipped").wait_for()
        page.get_by_text("sure", exact=True).nth(1).wait_for()  # how sure Mercury is of the text and date columns
        page.get_by_role("button", name="Analyse").click()
        page.get_by_text("Net sentiment", exact=True).wait_for()
        page.locator(".js-plotly-plot").first.wait_for()
        assert page.get_by_text("Reviews per day").count() >= 1  # four weeks of data: daily buckets
        page.get_by_role("tab", name="Products, channels, languages").click()
        page.get_by_text("By product").wait_for()
        page.get_by_text("accuracy measured").first.wait_for(state="attached")  # the per-language table (a canvas grid: its headers are hidden cells)
        page.screenshot(path=str(tmp_path / "sentiment.png"))
        bars = page.locator(".js-plotly-plot .bars path")
        assert bars.count() > 0
