"""The Reports page under AppTest: build, download, save a definition, re-run it."""
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
