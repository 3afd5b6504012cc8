"""The Reports page under AppTest: build, download, save a definition, re-run it; a build on the worker."""
import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.ingest import Table
from core.reports.store import definitions, history
from core.sentiment.datasets import analyse_table
from tests.conftest import ROOT


@pytest.mark.model
def test_build_save_and_rerun_a_report():
    frame = pd.DataFrame(
        {
            "date": [f"2026-04-{d:02d}" for d in range(1, 29)],
            "review": ["Superb service, thank you" if d % 3 else "Late delivery and a rude courier" for d in range(1, 29)],
        }
    )
    analyse_table(Table(frame=frame, source="service.csv"), name="Service")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()
    at.switch_page("app_pages/reports.py").run()
    assert not at.exception
    at.button(key="reports_build").click().run()
    assert not at.exception
    assert {b.label for b in at.get("download_button")} >= {"Download PDF", "Download DOCX", "Download HTML", "Download XLSX"}
    assert len(history()) == 1
    at.button(key="reports_save").click().run()
    saved = definitions()
    assert [d.name for d in saved] == ["Customer sentiment: Service"]
    at.button(key=f"reports_rerun_{saved[0].id}").click().run()
    assert not at.exception
    assert len(history()) == 2


def test_empty_state_points_to_sentiment():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    at.switch_page("app_pages/reports.py").run()
    assert "No datasets yet" in at.info[0].value


@pytest.mark.model
def test_a_report_builds_on_the_worker_and_the_page_opens_it(tmp_path, monkeypatch):
    from core.jobs import queue, store
    from tests.conftest import run_cli

    monkeypatch.setenv("MERCURY_DATA_DIR", str(tmp_path / "data"))
    frame = pd.DataFrame({"date": [f"2026-04-{d:02d}" for d in range(1, 15)], "review": ["Great fit" if d % 2 else "Broke at once" for d in range(1, 15)]})
    dataset_id, _ = analyse_table(Table(frame=frame, source="fit.csv"), name="Fit")
    store.worker_seen()  # a worker is alive: the page submits the build instead of building in its own script
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()
    at.switch_page("app_pages/reports.py").run()
    at.button(key="reports_build").click().run()
    job = store.active_job("report")
    assert job is not None and job.inputs["dataset_id"] == dataset_id and any("Building the report on the worker" in p.text for p in at.get("progress"))
    queue.run_job(job.id)  # the worker's part, here
    at.run()
    assert not at.exception and history()["id"].tolist() == [store.get_job(job.id).result["run_id"]]
    assert {b.label for b in at.get("download_button")} >= {"Download PDF", "Download DOCX", "Download HTML", "Download XLSX"}

    queued = run_cli("report", dataset_id, "--format", "pdf", "--out", tmp_path / "fit.pdf", "--queue", "--language", "pl")
    assert queued.returncode == 0, queued.stderr
    cli_job = json.loads(queued.stdout)["job"]
    assert not (tmp_path / "fit.pdf").exists()
    queue.run_job(cli_job)
    assert store.get_job(cli_job).state == "done" and (tmp_path / "fit.pdf").read_bytes().startswith(b"%PDF")
    refused = run_cli("report", tmp_path / "reviews.csv", "--format", "pdf", "--out", tmp_path / "x.pdf", "--queue")
    assert refused.returncode == 2 and refused.stderr.startswith("error: --queue builds the report of a stored dataset")
