"""The Sentiment page under AppTest, with a dataset seeded in the database."""
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.ingest import Table, read_table
from core.sentiment.datasets import analyse_table, list_datasets
from tests.conftest import ROOT


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180).run()
    at.switch_page("app_pages/sentiment.py").run()
    assert not at.exception
    return at


@pytest.mark.model
def test_empty_state_offers_the_sample_and_analyses_it():
    at = open_page()
    assert "No reviews yet" in at.info[0].value
    at.button(key="sentiment_sample").click().run()
    assert at.selectbox(key="sentiment_map_text").value == "review"
    assert at.selectbox(key="sentiment_map_rating").value == "rating"
    at.button(key="sentiment_analyse").click().run()
    assert not at.exception
    assert list_datasets()["rows"].tolist() == [902]
    assert at.metric[0].label == "Reviews"


@pytest.mark.model
def test_seeded_dataset_shows_kpis_alerts_and_ratings():
    dataset_id, _ = analyse_table(read_table(ROOT / "sample_data" / "reviews.csv"), name="Phone accessories")
    at = open_page()
    assert "Phone accessories" in at.selectbox(key="sentiment_pick").format_func(dataset_id)
    labels = [m.label for m in at.metric]
    assert labels[:4] == ["Reviews", "Positive", "Negative", "Net sentiment"]
    assert labels[4] == "Sentiment agrees with the stars"
    at.text_input(key="sentiment_alert_name").input("Charger watch")
    at.selectbox(key="sentiment_alert_kind").select("negative_share_above")
    at.number_input(key="sentiment_alert_threshold").set_value(60.0)
    at.selectbox(key="sentiment_alert_scope").select("product")
    at.number_input(key="sentiment_alert_min").set_value(5)
    at.button(key="FormSubmitter:sentiment_alert_form-Add rule").click().run()
    assert not at.exception
    assert any("Charger watch: negative share above 60% in a week, per product (periods of 5 reviews or more)" in m.value for m in at.markdown)
    assert any("alerts fired" in e.value for e in at.error)
    at.button(key="sentiment_calibrate").click().run()
    assert not at.exception
    said = [m.value for m in (*at.success, *at.warning) if "macro F1" in m.value]
    assert said and "held-out clearly rated reviews" in said[0]
    if said[0].startswith("Fitted"):
        at.button(key="sentiment_undo_calibration").click().run()
        assert any("the classifier's own scores again" in m.value for m in at.info)


def test_rename_and_delete():
    analyse_table(Table(frame=pd.DataFrame({"review": ["Love it", "Hate it"]}), source="tiny.csv"))
    at = open_page()
    at.text_input(key="sentiment_rename").input("Renamed set").run()
    at.button(key="sentiment_save_name").click().run()
    assert list_datasets()["name"].tolist() == ["Renamed set"]
    at.button(key="sentiment_delete").click().run()
    assert list_datasets().empty
    assert not at.exception


@pytest.mark.model
def test_a_second_file_analysed_opens_the_dashboard_on_its_own_dataset(tmp_path):
    """The page once kept showing the first dataset's figures under its name after a second file was analysed."""
    first, _ = analyse_table(read_table(ROOT / "tests" / "data" / "app_reviews.csv"), name="App reviews")
    at = open_page()
    assert at.selectbox(key="sentiment_pick").value == first
    at.button(key="sentiment_sample").click().run()
    at.button(key="sentiment_analyse").click().run()
    assert not at.exception
    second = int(list_datasets()["id"].max())
    assert second != first and at.selectbox(key="sentiment_pick").value == second
    at.selectbox(key="sentiment_pick").set_value(first).run()  # the person may still look at the first
    assert at.selectbox(key="sentiment_pick").value == first
