"""Real review exports (tests/exports.py: the vendor's twelve columns, a byte-order mark, a decoy date
column, comma-list categories): the right columns, a result that checks itself against the stars,
a fit to the file's ratings that never makes it worse and can be undone, a first view that shows
the data, and alerts that fire only on periods with enough reviews."""
import json

import pandas as pd
import pytest

from core.columns import parse_map, propose_roles, resolve_mapping
from core.errors import UserError
from core.ingest import read_table
from core.models.sentiment import rating_classes
from core.sentiment.alerts import add_rule, describe_rule, evaluate_alerts, rules_for
from core.sentiment.calibration import apply_calibration, calibrate, undo_calibration
from core.sentiment.datasets import analyse_table, reviews_frame
from core.sentiment.insights import dashboard, default_period, granularity_for
from tests.conftest import run_cli
from tests.exports import amazon_export, write_export


@pytest.fixture
def export_file(tmp_path):
    path = tmp_path / "1429_1.csv"
    write_export(path, amazon_export(1200))
    return path


def summary_of(result) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_cli_picks_the_columns_of_a_vendor_export_and_checks_itself_against_the_stars(export_file):
    result = run_cli("sentiment", export_file, "--json")
    assert result.returncode == 0, result.stderr
    assert "columns: text=reviews.text (sure), date=reviews.date (sure), product=name (sure), channel=none, rating=reviews.rating (sure)" in result.stderr
    summary = summary_of(result)
    assert summary["mapping"] == {"text": "reviews.text", "date": "reviews.date", "product": "name", "rating": "reviews.rating", "id": "id"}
    agreement = summary["rating_agreement"]
    assert agreement["clear_rows"] > 1100 and agreement["negative_rows"] >= 20
    assert agreement["balanced_agreement"] > 0.85 and agreement["agreement"] > 0.85
    assert summary["warnings"] == []


@pytest.mark.slow
def test_the_wrong_column_scored_is_said_loudly(export_file):
    result = run_cli("sentiment", export_file, "--map", "text=categories", "--json")
    assert result.returncode == 0, result.stderr
    assert "text=categories (given)" in result.stderr
    summary = summary_of(result)
    assert summary["rating_agreement"]["balanced_agreement"] < 0.7
    (warning,) = [w for w in summary["warnings"] if "agrees with the stars" in w]
    assert "check that 'categories' holds the review text" in warning
    assert "warning: Sentiment agrees with the stars on only" not in result.stdout


@pytest.mark.slow
def test_an_ambiguous_text_column_stops_with_its_candidates(tmp_path):
    texts = amazon_export(60)["reviews.text"]
    path = tmp_path / "two.csv"
    pd.DataFrame({"a": texts, "b": texts.sample(frac=1, random_state=3).to_numpy(), "stars": "5"}).to_csv(path, index=False)
    result = run_cli("sentiment", path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "cannot tell which column holds the review text" in result.stderr and "candidates: b, a" in result.stderr
    named = run_cli("sentiment", path, "--map", "text=b")
    assert named.returncode == 0, named.stderr


@pytest.mark.parametrize(
    "name", ["reviews.text", "Review Text", "review_body", "reviewText", "Comment", "Opinie", "Recenzie", "评论", "Treść opinii"]
)
def test_text_is_found_under_the_names_vendors_use_and_never_in_a_category_column(name):
    export = amazon_export(200)
    frame = pd.DataFrame({"categories": export["categories"], "Title": export["reviews.title"], name: export["reviews.text"], "Data": export["reviews.date"]})
    roles = propose_roles(frame)
    assert roles.columns()["text"] == name and roles.roles["text"].confidence in ("sure", "likely")
    assert roles.columns()["date"] == "Data"


def test_a_body_beats_its_title_and_a_decoy_date_loses_to_the_review_date():
    frame = amazon_export(200)[["dateAdded", "reviews.title", "reviews.text", "reviews.date"]].rename(
        columns={"reviews.title": "summary", "reviews.text": "col_7"}
    )
    roles = propose_roles(frame).columns()
    assert roles["text"] == "col_7" and roles["date"] == "reviews.date"


def test_map_takes_column_names_with_commas_and_refuses_unknown_roles():
    assert parse_map("text=reviews.text,product=Fire HD 8, Wi-Fi,rating=none") == {"text": "reviews.text", "product": "Fire HD 8, Wi-Fi", "rating": None}
    with pytest.raises(UserError, match="--map takes role=COLUMN pairs"):
        parse_map("body=reviews.text")


@pytest.fixture
def export_dataset(export_file):
    table = read_table(export_file)
    dataset_id, _ = analyse_table(table, mapping=resolve_mapping(table.frame, table.source))
    return dataset_id


@pytest.mark.slow
def test_fitting_to_the_ratings_never_lowers_macro_f1_and_can_be_undone(export_dataset):
    before = reviews_frame(export_dataset)
    result = calibrate(before)
    assert result["after"]["macro_f1"] >= result["before"]["macro_f1"] or not result["kept"]
    assert set(result["before"]) == {"macro_f1", "balanced_accuracy", "accuracy"}
    low_stars = rating_classes(before["rating"]) == "negative"
    if result["kept"]:
        apply_calibration(export_dataset, result)
        fitted = reviews_frame(export_dataset)
        # each class weighs the same: the few one- and two-star reviews are not pushed to positive
        assert (fitted.loc[low_stars, "score"] < 0).mean() >= (before.loc[low_stars, "score"] < 0).mean() - 0.05
    else:
        with pytest.raises(UserError, match="did not improve"):
            apply_calibration(export_dataset, result)
        apply_calibration(export_dataset, {**result, "kept": True, "slope": 0.3, "intercept": 2.0})  # a fit that makes it worse
        assert (reviews_frame(export_dataset)["score"] > 0).mean() > 0.95
    assert undo_calibration(export_dataset) == len(before)
    restored = reviews_frame(export_dataset)
    assert restored["score"].tolist() == before["score"].tolist() and restored["sentiment"].tolist() == before["sentiment"].tolist()


def test_a_skewed_file_cannot_fool_the_fit():
    # 95% five-star reviews: a fit judged by plain accuracy would read everything as positive.
    frame = pd.DataFrame({"rating": [5.0] * 380 + [1.0] * 20, "score": [0.6] * 300 + [-0.1] * 80 + [-0.7] * 15 + [0.05] * 5})
    result = calibrate(frame)
    assert result["after"]["balanced_accuracy"] >= result["before"]["balanced_accuracy"] == 0.75
    assert result["after"]["macro_f1"] >= result["before"]["macro_f1"]


@pytest.mark.slow
def test_the_first_view_of_four_years_shows_most_reviews_by_month(export_dataset):
    start, end = default_period(export_dataset)
    board = dashboard(export_dataset, start=start, end=end)
    assert board.kpis.volume >= 0.5 * 1200
    assert board.every == granularity_for(start, end) and board.every in ("month", "quarter")
    assert 10 <= len(board.over_time) <= 60
    assert board.kpis.basis  # a change to show, even when nothing comes before the period


def test_granularity_gives_tens_of_points():
    assert granularity_for(pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-30")) == "day"
    assert granularity_for(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-31")) == "week"
    assert granularity_for(pd.Timestamp("2014-10-01"), pd.Timestamp("2018-09-30")) == "month"
    assert granularity_for(pd.Timestamp("2010-01-01"), pd.Timestamp("2018-12-31")) == "quarter"


@pytest.mark.slow
def test_alert_rules_are_named_for_what_they_watch_saved_once_and_need_enough_reviews(export_dataset):
    first = add_rule(export_dataset, kind="negative_share_above", threshold=10, period="W")
    again = add_rule(export_dataset, kind="negative_share_above", threshold=10, period="W")
    assert first.id == again.id and len(rules_for(export_dataset)) == 1
    assert str(describe_rule(first)) == "Negative share above 10% in a week (periods of 20 reviews or more)"
    assert describe_rule(first).render("ro") == "Ponderea negativelor peste 10% într-o săptămână (perioade cu cel puțin 20 recenzii)"
    reviews = reviews_frame(export_dataset)
    loose = add_rule(export_dataset, kind="negative_share_above", threshold=10, period="W", min_reviews=1)
    assert loose.name == first.name and loose.id != first.id
    fired_loose, fired = evaluate_alerts(reviews, [loose]), evaluate_alerts(reviews, [first])
    assert len(fired) < len(fired_loose)
    assert (fired["volume"] >= 20).all()


@pytest.mark.slow
def test_cli_fits_a_stored_dataset_to_its_stars_and_undoes_it(export_file, tmp_path, monkeypatch):
    monkeypatch.setenv("MERCURY_DATA_DIR", str(tmp_path / "data"))  # the job queue's file
    scored = run_cli("sentiment", export_file, "--json")
    dataset_id = summary_of(scored)["dataset_id"]
    before = reviews_frame(dataset_id)["score"].tolist()
    fitted = run_cli("calibrate", dataset_id)
    assert fitted.returncode == 0, fitted.stderr
    result = summary_of(fitted)
    assert result["after"]["macro_f1"] >= result["before"]["macro_f1"] or not result["applied"]
    assert "held-out rows" in fitted.stderr
    undone = run_cli("calibrate", dataset_id, "--undo")
    assert undone.returncode == 0 and summary_of(undone)["reviews"] == len(before)
    assert reviews_frame(dataset_id)["score"].tolist() == before
    missing = run_cli("calibrate", 999)
    assert missing.returncode == 2 and "There is no dataset 999." in missing.stderr

    from core.jobs import queue, store

    queued = run_cli("calibrate", dataset_id, "--queue", "--json")  # the same fit, as a job for a worker
    assert queued.returncode == 0, queued.stderr
    job = json.loads(queued.stdout)["job"]
    assert reviews_frame(dataset_id)["score"].tolist() == before
    queue.run_job(job)  # the worker's part, here
    done = store.get_job(job)
    assert done.state == "done" and done.result["kept"] == result["applied"] and done.result["after"] == result["after"]
    assert (reviews_frame(dataset_id)["score"].tolist() != before) == result["applied"]
