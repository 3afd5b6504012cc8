"""Scoring, caching, resuming, exporting and summarising review sentiment with the real embedded classifier."""
import io
import json

import openpyxl
import pandas as pd
import pytest

from core.classifiers import get_classifier
from core.db import AlertRule
from core.ingest import Table, read_table
from core.models.sentiment import EmbeddedClassifier
from core.sentiment import datasets
from core.sentiment.alerts import evaluate_alerts, save_rule
from core.sentiment.datasets import analyse_table, create_dataset, export_frame, reviews_frame, score_dataset
from core.sentiment.insights import dashboard, kpis
from tests.conftest import ROOT, run_cli

# Sentences from domains the head was not trained on (it saw phone accessories only).
OTHER_DOMAINS = [
    ("The pasta was delicious and the waiter was lovely.", 1),
    ("Best film I have seen this year, the acting is superb.", 1),
    ("The hotel room was spotless and the view stunning.", 1),
    ("Friendly staff and generous portions, we will be back.", 1),
    ("The soup was cold and we waited an hour for it.", 0),
    ("Boring, predictable and far too long.", 0),
    ("The sweater shrank after one wash.", 0),
    ("Rude receptionist and a dirty bathroom.", 0),
]


def test_classifier_reads_other_domains():
    scored = get_classifier().classify([text for text, _ in OTHER_DOMAINS])
    right = sum((s.score >= 0) == bool(y) for s, (_, y) in zip(scored, OTHER_DOMAINS))
    assert right >= 7  # one miss allowed: "shrank after one wash" has no negative word in it
    assert all(-1 <= s.score <= 1 and 0.5 <= s.confidence <= 1 for s in scored)
    assert {s.sentiment for s in scored} <= {"positive", "neutral", "negative"}


def sample_table(rows=40) -> Table:
    return read_table(ROOT / "sample_data" / "reviews.csv").__class__(
        frame=pd.read_csv(ROOT / "sample_data" / "reviews.csv", dtype=str).head(rows), source="sample.csv"
    )


class CountingClassifier(EmbeddedClassifier):
    """The real classifier, counting the texts it is asked to score and optionally failing mid-run."""

    def __init__(self, fail_after_calls=None):
        super().__init__()
        self.texts_scored = 0
        self.calls = 0
        self.fail_after_calls = fail_after_calls

    def classify(self, texts):
        self.calls += 1
        if self.fail_after_calls is not None and self.calls > self.fail_after_calls:
            raise RuntimeError("the backend went away")
        self.texts_scored += len(texts)
        return super().classify(texts)


def test_interrupted_scoring_keeps_what_was_done_and_resumes(monkeypatch):
    monkeypatch.setattr(datasets, "CHUNK_ROWS", 10)
    table = sample_table(35)
    mapping = {"text": "review", "date": "date", "product": "product", "channel": "channel", "rating": "rating", "id": "review_id"}
    dataset_id = create_dataset(table, mapping, "interrupted")
    failing = CountingClassifier(fail_after_calls=2)
    with pytest.raises(RuntimeError):
        score_dataset(dataset_id, failing)
    saved = reviews_frame(dataset_id)
    assert saved["sentiment"].notna().sum() == 20  # two chunks were committed before the failure

    resumed = CountingClassifier()
    run = score_dataset(dataset_id, resumed)
    assert run["scored_now"] == 15
    assert resumed.texts_scored <= 15
    assert reviews_frame(dataset_id)["sentiment"].notna().all()


def test_the_same_text_is_never_scored_twice_by_the_same_model():
    frame = pd.DataFrame({"review": ["Great battery life.", "Great battery life.", "Broke in a day."]})
    first = CountingClassifier()

    def create_and_score():
        return score_dataset(create_dataset(Table(frame=frame.copy(), source="dup.csv"), {"text": "review"}), first)

    create_and_score()
    assert first.texts_scored == 2  # the duplicate inside the file is scored once
    create_and_score()
    assert first.texts_scored == 2  # the second upload reuses the cache


def test_export_keeps_every_input_column_and_neutralises_formulas():
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3", "4", "5", "6"],
            "review": [
                '=HYPERLINK("http://evil.example","click")',
                "+1+1 stars from me",
                "@SUM(1) terrible",
                "\tTab first, awful",
                "\rCR first but lovely",
                "fine product",
            ],
            "amount": ["-12.5", "3", "4", "5", "6", "7"],
        }
    )
    dataset_id, _ = analyse_table(Table(frame=frame, source="payloads.csv"))
    out = export_frame(dataset_id)
    assert list(out.columns[:3]) == ["id", "review", "amount"]
    from core.exports import to_csv_bytes, to_xlsx_bytes

    csv_back = pd.read_csv(io.BytesIO(to_csv_bytes(out)), dtype=str)
    assert csv_back["review"].str.startswith("'").sum() == 5
    workbook = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes({"reviews": out})))
    sheet = workbook["reviews"]
    header = [cell.value for cell in sheet[1]]
    review_col = header.index("review") + 1
    score_col = header.index("score") + 1
    for row in range(2, sheet.max_row + 1):
        cell = sheet.cell(row=row, column=review_col)
        assert cell.data_type != "f"
        assert not str(cell.value).startswith(("=", "+", "@", "\t", "\r"))
        assert isinstance(sheet.cell(row=row, column=score_col).value, float)


def test_negative_numbers_stay_numbers_in_exports():
    from core.exports import neutralise_cell

    assert neutralise_cell(-12.5) == -12.5
    assert neutralise_cell("-12.5") == "'-12.5"  # text that looks like a formula is still text
    assert neutralise_cell("fine") == "fine"


def test_kpis_compare_with_the_previous_period_and_alerts_fire():
    dates = pd.date_range("2026-03-02", periods=28, freq="D").strftime("%Y-%m-%d").tolist()
    texts = ["Absolutely love it, works perfectly."] * 14 + ["Terrible, it broke and support never answered."] * 14
    frame = pd.DataFrame({"date": dates, "review": texts, "product": ["A"] * 28})
    dataset_id, summary = analyse_table(Table(frame=frame, source="trend.csv"))
    assert summary["counts"]["positive"] == 14 and summary["counts"]["negative"] == 14
    reviews = reviews_frame(dataset_id)
    current = kpis(reviews, "2026-03-16", "2026-03-29")
    assert current.volume == 14 and current.negative_share == 100
    assert current.delta("negative_share") == 100
    save_rule(AlertRule(dataset_id=dataset_id, name="spike", kind="negative_share_up", threshold=30, period="W", min_reviews=5))
    board = dashboard(dataset_id, start="2026-03-16", end="2026-03-29")
    assert board.alerts["rule"].tolist() == ["spike"]
    assert board.alerts.iloc[0]["change_points"] == 100.0
    assert any("support" in name for name in board.themes["theme"])  # found in the reviews: "support · answer"
    never = AlertRule(name="never", kind="negative_share_above", threshold=100, period="W")
    assert evaluate_alerts(reviews, [never]).empty
    too_few = AlertRule(name="too few", kind="negative_share_above", threshold=10, period="W", min_reviews=8)
    assert evaluate_alerts(reviews, [too_few]).empty  # seven reviews a week: not enough to fire


def run_sentiment(*args):
    return run_cli("sentiment", *args)


@pytest.mark.slow
def test_cli_writes_every_column_plus_sentiment_and_score(tmp_path):
    source = tmp_path / "reviews.csv"
    source.write_text("id;comment;stars\n1;Brilliant, works perfectly;5\n2;Stopped working after two days;1\n3;;3\n", encoding="cp1252")
    out = tmp_path / "out.csv"
    result = run_sentiment(str(source), "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["rows"] == 2 and summary["skipped"] == 1 and summary["skip_reasons"] == {"empty text": 1}
    assert summary["counts"]["positive"] == 1 and summary["counts"]["negative"] == 1
    assert summary["rows_per_s"] > 0
    written = pd.read_csv(out)
    assert list(written.columns) == ["id", "comment", "stars", "sentiment", "score", "confidence", "language", "themes"]
    assert written["sentiment"].tolist() == ["positive", "negative"]
    assert written["score"].between(-1, 1).all()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty."),
        (b"id,review\n", "has a header but no rows."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "looks like a binary file"),
        (b"PK\x03\x04" + b"\x00" * 40, "is a zip archive"),
        (b"a,b\n1,2\n3,4\n", "has no column of review text"),
    ],
)
@pytest.mark.slow
def test_cli_refuses_unusable_files_with_exit_2(tmp_path, content, message):
    path = tmp_path / "input.csv"
    path.write_bytes(content)
    result = run_sentiment(str(path))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.model
def test_an_llm_backend_classifies_with_json_and_records_its_model():
    from core.llm import BackendSpec
    from tests.openai_server import Reply, ScriptedOpenAIServer

    replies = [Reply(text='{"sentiment": "negative", "score": -0.8}'), Reply(text="It is positive!"), Reply(text='{"sentiment": "positive", "score": 0.9}')]
    with ScriptedOpenAIServer(replies) as server:
        spec = BackendSpec(kind="openai", model="judge-model", base_url=server.base_url, api_key="k", timeout=5, max_retries=0)
        classifier = get_classifier("openai", spec=spec)
        frame = pd.DataFrame({"review": ["Broke at once.", "Works great."]})
        dataset_id, summary = analyse_table(Table(frame=frame, source="llm.csv"), classifier=classifier)
    # Two reviews in two concurrent requests; whichever got the prose answer had one repair request.
    assert len(server.requests) == 3
    assert "<review>" in server.requests[0]["body"]["messages"][1]["content"]
    assert summary["model"] == "openai:judge-model"
    assert summary["counts"] == {"negative": 1, "neutral": 0, "positive": 1}
    assert set(reviews_frame(dataset_id)["model"]) == {"openai:judge-model"}


def test_reviews_frame_is_read_again_when_any_process_changes_its_rows():
    import pandas as pd
    from sqlalchemy import update

    from core.db import Review, session_scope
    from core.ingest import Table
    from core.sentiment.datasets import create_dataset, reviews_frame

    dataset_id = create_dataset(Table(pd.DataFrame({"review": ["good", "bad", "fine"]}), "three.csv"), {"text": "review"})
    first = reviews_frame(dataset_id)
    assert first["sentiment"].isna().all()
    first.loc[0, "text"] = "changed by a caller"  # a copy: the kept frame is not touched
    assert reviews_frame(dataset_id)["text"].tolist() == ["good", "bad", "fine"]
    with session_scope() as session:  # as a worker scoring the rows would
        session.execute(update(Review).where(Review.dataset_id == dataset_id, Review.row_index == 1).values(sentiment="negative", score=-0.9))
        session.commit()
    assert reviews_frame(dataset_id)["sentiment"].tolist()[1] == "negative"
    with session_scope() as session:  # a recalibration changes scores only
        session.execute(update(Review).where(Review.dataset_id == dataset_id, Review.row_index == 1).values(score=-0.5))
        session.commit()
    assert reviews_frame(dataset_id)["score"].tolist()[1] == -0.5
