"""A long analysis on a worker in a real browser: it goes on while the person visits another page
and closes the tab, and the page opened again follows it to its dashboard."""
import os
from contextlib import contextmanager

import pytest

from tests.browser import CHROMIUM, ROOT, chromium_page, streamlit_server
from tests.system_tools import requires
from tests.test_concurrent_runs import fresh_reviews
from tests.test_jobs import start_worker, stop

pytestmark = [pytest.mark.browser, pytest.mark.model, requires(os.path.exists(CHROMIUM), "Chromium is installed by scripts/system-deps.sh")]


@contextmanager
def app_with_worker(tmp_path, monkeypatch):
    """A database and data folder of the test's own, for this process, the app's servers and a real
    worker that runs beside them until the test ends: the environment to serve the app with."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'browser.db'}", "MERCURY_DATA_DIR": str(tmp_path / "data")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    worker = start_worker()
    try:
        yield env
    finally:
        stop(worker)


def test_an_analysis_outlives_the_tab_and_the_reopened_page_shows_its_dashboard(tmp_path, monkeypatch):
    from core.jobs.store import active_job, get_job

    upload = tmp_path / "year-of-reviews.csv"
    fresh_reviews(upload, 6000)
    with app_with_worker(tmp_path, monkeypatch) as env:
        with streamlit_server(env["DATABASE_URL"], env) as url, chromium_page(1400, 1400) as page:
            page.goto(url)
            page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Sentiment").click()
            page.get_by_text("No reviews yet").wait_for()
            page.locator("input[type=file]").set_input_files(str(upload))
            page.get_by_text("6000 rows read, 0 skipped").or_(page.get_by_text("6,000 rows read, 0 skipped")).wait_for()
            page.get_by_role("button", name="Analyse").click()
            page.get_by_text("Analysing on the worker").wait_for(timeout=60_000)
            page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Jobs").click()
            page.get_by_role("heading", name="Jobs").wait_for()  # the table itself is a canvas: its rows are checked in test_jobs.py
            job = active_job("score")
            assert job is not None
            page.close()  # the tab closes; the job goes on
        with streamlit_server(env["DATABASE_URL"], env) as url, chromium_page(1400, 1400) as page:
            page.goto(url)
            page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Sentiment").click()
            if get_job(job.id).state == "running":
                page.get_by_text("Analysing on the worker").wait_for(timeout=60_000)
            page.get_by_text("Net sentiment", exact=True).wait_for(timeout=600_000)
            finished = "() => !document.body.innerText.includes('Analysing on the worker') && !document.body.innerText.includes('not fully analysed')"
            page.wait_for_function(finished, timeout=600_000)  # the page reran on its own when the job ended
            page.screenshot(path=str(ROOT / "data" / "browser-jobs.png") if os.environ.get("MERCURY_SCREENSHOTS") else str(tmp_path / "after.png"))
            assert get_job(job.id).state == "done" and get_job(job.id).result["rows"] == 6000


def test_a_fine_tune_outlives_the_tab_and_the_reopened_lab_shows_its_model(tmp_path, monkeypatch):
    from core.jobs.store import active_job, get_job, recent_jobs
    from tests.test_jobs import labelled_file

    upload = tmp_path / "labelled.csv"
    labelled_file(upload, copies=6)
    with app_with_worker(tmp_path, monkeypatch) as env:
        with streamlit_server(env["DATABASE_URL"], env) as url, chromium_page(1400, 1400) as page:
            page.goto(url)
            page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Model lab").click()
            page.get_by_role("tab", name="Fine-tune").click()
            page.locator("input[type=file]").nth(1).set_input_files(str(upload))
            page.get_by_text("72 rows read from labelled.csv").wait_for()
            page.get_by_role("button", name="Fine-tune", exact=True).click()
            page.get_by_text("Fine-tuning on the worker").wait_for(timeout=60_000)
            page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Jobs").click()
            page.get_by_role("heading", name="Jobs").wait_for()
            page.close()  # the tab closes; the training goes on
        (job,) = recent_jobs(kind="finetune")
        assert job.requested_by.startswith("browser ")
        with streamlit_server(env["DATABASE_URL"], env) as url, chromium_page(1400, 1400) as page:
            page.goto(url)
            page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Model lab").click()
            page.get_by_role("tab", name="Fine-tune").click()
            if active_job("finetune") is not None:
                page.get_by_text("Fine-tuning on the worker").wait_for(timeout=60_000)
            page.get_by_text("It is now a classifier choice on the Sentiment page").wait_for(timeout=600_000)
            done = get_job(job.id)
            assert done.state == "done" and page.get_by_text(done.result["model_id"]).count() >= 1
