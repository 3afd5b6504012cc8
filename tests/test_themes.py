"""Themes found in a dataset's own reviews: an app's export gets themes about the app, in its reviews'
words and languages, and a newer export of the same file keeps the themes found before."""
import pandas as pd
import pytest

from core.ingest import Table
from core.sentiment.datasets import analyse_table, reviews_frame
from core.sentiment.insights import dashboard
from core.sentiment.themes import FIXED, stored_themes
from tests.conftest import ROOT

APP = pd.read_csv(ROOT / "tests" / "data" / "app_reviews.csv")  # a Google Play export's shape: content, score, at

pytestmark = pytest.mark.model


def test_an_app_export_gets_themes_about_the_app_named_in_its_reviews_words():
    dataset_id, _ = analyse_table(Table(frame=APP, source="play_export.csv"))
    board = dashboard(dataset_id)
    names = board.themes["theme"].tolist()
    assert len(names) >= 3 and board.themes["volume"].sum() <= len(APP)
    assert not set(names) & {"delivery", "food", "cleanliness", "battery", "price"}  # nothing about parcels or meals
    words = " ".join(names)
    assert sum(word in words for word in ("ad", "account", "message", "crash", "feed", "login", "notification")) >= 2
    reviews = reviews_frame(dataset_id)
    ads = reviews[reviews["text"].str.contains("ads|reklam", case=False)]
    assert ads["themes"].value_counts().iloc[0] >= 0.7 * len(ads)  # the Polish ad complaints join the English ones


def test_a_newer_export_of_the_same_file_meets_the_themes_found_before():
    first, _ = analyse_table(Table(frame=APP.iloc[:36], source="play.csv"), name="Play store")
    _, before = stored_themes("Play store")
    later, _ = analyse_table(Table(frame=APP, source="play.csv"), name="Play store")
    _, after = stored_themes("Play store")
    assert [t.name for t in after[: len(before)]] == [t.name for t in before]  # nothing renamed or reshuffled
    old, new = reviews_frame(first), reviews_frame(later)
    same = new.merge(old, on="text", suffixes=("_new", "_old"))
    assert (same["themes_new"] == same["themes_old"]).mean() >= 0.9


def test_too_few_reviews_make_no_themes_rather_than_forced_ones():
    dataset_id, _ = analyse_table(Table(frame=APP.iloc[:5], source="five.csv"))
    assert dashboard(dataset_id).themes.empty and set(reviews_frame(dataset_id)["themes"]) == {""}
    assert "delivery" in FIXED  # the fixed names remain, for clusters that clearly are one of them
