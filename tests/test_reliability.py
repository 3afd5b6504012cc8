"""What a reliability run found: ragged files, batches that stop part-way, hung and malformed
servers, warnings on stderr and absurd configs. Each case is what a person would see."""
import json
import time

import pandas as pd
import pytest
from sqlalchemy import func
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core.db import EmailMessage, SentimentCache, session_scope
from core.errors import LLMError
from core.i18n import render
from core.ingest import read_table
from core.llm import BackendSpec
from core.llm.classifier import LLMClassifier
from core.sentiment.datasets import analyse_table, get_dataset, score_dataset
from tests.conftest import ROOT, run_cli
from tests.openai_server import Reply, ScriptedOpenAIServer

RAGGED = b'text,label\nok product,positive\ntoo,many,fields,here,negative\nshort\n"unclosed quote,positive\nlast good row,negative\n'
DATA_LINES = 5


def count(query) -> int:
    with session_scope() as session:
        return session.exec(query).one()


def test_a_ragged_csv_accounts_for_every_line():
    table = read_table(RAGGED, "ragged.csv")
    assert table.frame["text"].tolist() == ["ok product", "short", "last good row"]
    assert table.frame["label"].tolist() == ["positive", "", "negative"]  # a short row is kept, its missing cell empty
    assert len(table.frame) + table.skipped == DATA_LINES
    assert table.skip_lines == {"ragged row (more fields than the header)": [3], "unclosed quote (the line was skipped; the lines after it were read)": [5]}
    assert "at line 3" in table.skip_summary() and "at line 5" in table.skip_summary()


def test_a_quote_that_closes_lines_later_does_not_swallow_rows_between():
    table = read_table(b'id,review\n1,"opens here\n2,plain row\n3,"a real\nmultiline review"\n4,"never closes\n', "q.csv")
    assert table.frame["review"].tolist() == ["plain row", "a real\nmultiline review"]
    assert table.skip_lines["unclosed quote (the line was skipped; the lines after it were read)"] == [2, 6]


@pytest.mark.slow
def test_the_ragged_csv_through_sentiment_and_report(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_bytes(RAGGED)
    scored = run_cli("sentiment", path, "--json")
    assert scored.returncode == 0 and "Traceback" not in scored.stderr, scored.stderr
    summary = json.loads(scored.stdout)
    assert summary["rows"] + summary["skipped"] == DATA_LINES
    assert "skipped: 1 ragged row (more fields than the header) at line 3" in scored.stderr
    report = run_cli("report", path, "--format", "html", "--out", tmp_path / "r.html")
    assert report.returncode == 0 and "Traceback" not in report.stderr, report.stderr
    assert json.loads(report.stdout)["reviews"] == 3


@pytest.mark.model
def test_the_ragged_csv_on_the_sentiment_page():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180).run()
    at.switch_page("app_pages/sentiment.py").run()
    at.file_uploader(key="sentiment_upload").upload("ragged.csv", RAGGED, "text/csv").run()
    assert not at.exception
    said = " ".join(m.value for m in at.markdown)
    assert "3 rows read, 2 skipped" in said and "at line 3" in said and "at line 5" in said
    at.button(key="sentiment_analyse").click().run()
    assert not at.exception


def _json_sentiment(body: dict) -> str:
    return '{"sentiment": "positive", "score": 0.8}'


@pytest.mark.model
def test_scores_that_arrive_before_a_batch_stops_are_saved_and_not_asked_for_again():
    reviews = pd.DataFrame({"review": [f"Review number {i}: the strap is fine, the clasp less so" for i in range(12)]})
    from core.ingest import Table

    table = Table(frame=reviews, source="twelve.csv")
    with ScriptedOpenAIServer([Reply(respond=_json_sentiment)] * 5 + [Reply(delay_s=3)]) as server:
        spec = BackendSpec(kind="openai", model="m", base_url=server.base_url, api_key="k", timeout=0.5, max_retries=0)
        stored: list[int] = []
        try:
            analyse_table(table, classifier=LLMClassifier(spec), on_stored=stored.append)
            raise AssertionError("the batch should have stopped")
        except LLMError as error:
            assert "the 5 scores that arrived are saved, so a rerun asks only for the rest" in str(error)
    assert count(select(func.count()).select_from(SentimentCache)) == 5
    with ScriptedOpenAIServer([Reply(respond=_json_sentiment)]) as server:
        spec = BackendSpec(kind="openai", model="m", base_url=server.base_url, api_key="k", timeout=5, max_retries=0)
        score_dataset(stored[0], LLMClassifier(spec))
        assert len(server.requests) == 7  # only the reviews whose answers were lost
    assert get_dataset(stored[0]).rows == 12


@pytest.mark.slow
def test_a_hung_server_stops_a_reply_batch_as_soon_as_a_sentiment_batch(tmp_path):
    mails = pd.read_csv(ROOT / "sample_data" / "emails.csv").head(5)
    batch = tmp_path / "five.csv"
    mails.to_csv(batch, index=False)
    with ScriptedOpenAIServer([Reply(delay_s=60)]) as server:
        started = time.monotonic()
        result = run_cli(
            "reply", "--batch", batch, "--out", tmp_path / "drafts.csv", "--backend", "openai",
            env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test", "OPENAI_TIMEOUT": "5"},
        )
        elapsed = time.monotonic() - started
        asked = len(server.requests)
    assert elapsed < 30, elapsed
    assert asked <= 5 * 3  # each mail at most its three attempts (the SDK's two retries), then the breaker stopped the batch
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr  # one sentence
    assert "failed 3 requests in a row" in result.stderr and "the 5 mails are saved" in result.stderr
    assert count(select(func.count()).select_from(EmailMessage)) == 5


@pytest.mark.slow
def test_a_malformed_answer_on_one_reply_is_one_sentence_and_the_draft_says_why(tmp_path):
    mail = tmp_path / "mail.txt"
    mail.write_text("Subject: Pairing\n\nMy Pulse earbuds will not pair with my phone, what do I do?\n")
    with ScriptedOpenAIServer([Reply(raw=b"{this is not json")]) as server:
        result = run_cli("reply", mail, "--backend", "openai", env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test", "OPENAI_MAX_RETRIES": "0"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "answered with something that is not a chat completion" in result.stderr
    with session_scope() as session:
        row = session.exec(select(EmailMessage)).one()
    assert row.draft and render(row.draft_source).startswith("the model failed (The API at ")


@pytest.mark.slow
def test_refusals_leave_one_line_on_stderr(tmp_path):
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("id;t\n1;caf\xe9 bun\n2;tr\xe8s bien\n".encode("latin-1"))
    one_label = tmp_path / "one.csv"
    one_label.write_text("text,label\nnice one,positive\ngreat stuff,positive\n")
    huge = tmp_path / "config.json"
    huge.write_text(
        json.dumps(
            {
                "model_type": "llama",
                "hidden_size": 10**8,
                "num_attention_heads": 64,
                "num_hidden_layers": 10**6,
                "intermediate_size": 4 * 10**8,
                "vocab_size": 32000,
            }
        )
    )
    refused = run_cli("sentiment", latin, "--text-column", "nope")
    assert refused.returncode == 2 and refused.stderr.strip() == "error: latin1.csv has no column 'nope'; its columns are: id, t."
    evaluated = run_cli("evaluate", "--input", one_label, "--text-column", "text", "--label-column", "label")
    assert evaluated.returncode == 0 and evaluated.stderr == ""  # scikit-learn's warning went to the log
    planned = run_cli("gpu", "--config", huge, "--json")
    assert planned.returncode == 2 and planned.stdout == ""
    assert (
        planned.stderr.strip() == "error: The config's hidden_size is 100,000,000, which no real model has (1 to 1,000,000): check it is a model's config.json."
    )
