"""Two runs at once, and a run killed half-way then started again: no crash, no duplicate, no work paid twice."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from sqlalchemy import func, text
from sqlmodel import select

from core import db
from core.db import Dataset, EmailMessage, Review, SentimentCache, session_scope
from tests.conftest import ROOT
from tests.openai_server import Reply, ScriptedOpenAIServer
from tests.system_tools import requires

POSTGRES_URL = os.environ.get("MERCURY_TEST_POSTGRES_URL", "")


def start_cli(*args, env_extra=None) -> subprocess.Popen:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-m", "core", *map(str, args)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def count(query) -> int:
    with session_scope() as session:
        return session.exec(query).one()


def fresh_reviews(path, n: int) -> None:
    """n texts no run has scored before (the cache is empty in a fresh database anyway)."""
    pd.DataFrame({"review": [f"Review {i}: the strap broke after {i} days, {'awful' if i % 2 else 'but support was lovely'}." for i in range(n)]}).to_csv(
        path, index=False
    )


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgres", id="postgres", marks=[pytest.mark.postgres, requires(bool(POSTGRES_URL), "no PostgreSQL: `make test` starts Debian's on loopback")]
        ),
    ]
)
def database(request, monkeypatch):
    if request.param == "postgres":
        monkeypatch.setenv("DATABASE_URL", POSTGRES_URL)
        with db.get_engine().begin() as connection:
            connection.execute(text("truncate dataset, review, review_theme, theme_scope, sentiment_cache, email_message restart identity cascade"))
    return request.param


@pytest.mark.slow
def test_two_processes_scoring_the_same_new_texts_both_succeed_with_one_cache_row_each(database, tmp_path):
    path = tmp_path / "reviews.csv"
    fresh_reviews(path, 300)
    runs = [start_cli("sentiment", path, "--json") for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (_, stderr) in zip(runs, outputs):
        assert run.returncode == 0, stderr
    assert count(select(func.count()).select_from(SentimentCache)) == 300
    assert count(select(func.count()).select_from(Dataset)) == 1  # the second run resumed the first one's dataset
    assert count(select(func.count()).select_from(Review)) == 300
    assert count(select(func.count()).select_from(Review).where(Review.sentiment.is_(None))) == 0


@pytest.mark.slow
def test_a_killed_sentiment_run_resumes_without_duplicates(tmp_path):
    path = tmp_path / "reviews.csv"
    fresh_reviews(path, 3000)
    first = start_cli("sentiment", path, "--json")
    deadline = time.monotonic() + 300
    while count(select(func.count()).select_from(Review).where(Review.sentiment.is_not(None))) == 0:
        assert first.poll() is None and time.monotonic() < deadline, "the first run ended before it could be killed"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    scored_before = count(select(func.count()).select_from(Review).where(Review.sentiment.is_not(None)))
    assert 0 < scored_before < 3000
    second = start_cli("sentiment", path, "--json", "--out", tmp_path / "scored.csv")
    stdout, stderr = second.communicate(timeout=600)
    assert second.returncode == 0, stderr
    assert count(select(func.count()).select_from(Dataset)) == 1
    assert count(select(func.count()).select_from(Review)) == 3000
    assert count(select(func.count()).select_from(SentimentCache)) == 3000
    assert len(pd.read_csv(tmp_path / "scored.csv", encoding="utf-8-sig")) == 3000
    assert f"scored {scored_before:,} of 3,000" in stderr  # it started where the killed run stopped


@pytest.mark.slow
def test_a_killed_reply_batch_resumes_without_duplicate_drafts_or_repeated_calls(tmp_path):
    batch = ROOT / "sample_data" / "emails.csv"
    draft = Reply(text="Hi,\n\nThanks for getting in touch. A member of our team will follow up shortly.")
    out = tmp_path / "drafts.csv"
    # The first 8 drafts come back at once; the rest hang, so the kill lands between two saved chunks.
    with ScriptedOpenAIServer([draft]) as first_server:
        first_server.replies = [draft] * 8 + [Reply(text=draft.text, delay_s=60)]
        first = start_cli(
            "reply",
            "--batch",
            batch,
            "--out",
            out,
            env_extra={"OPENAI_BASE_URL": first_server.base_url, "OPENAI_API_KEY": "sk-test", "MERCURY_BACKEND": "openai"},
        )
        deadline = time.monotonic() + 300
        # The drafts are committed, then the file is replaced with them: wait for both, or the kill can land between.
        while count(select(func.count()).select_from(EmailMessage).where(EmailMessage.status == "drafted")) < 8 or not out.exists():
            assert first.poll() is None and time.monotonic() < deadline, first.stderr.read() if first.poll() is not None else "too slow"
            time.sleep(0.1)
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert len(pd.read_csv(out, encoding="utf-8-sig")) == 12  # written as the first chunk landed
    waiting = count(select(func.count()).select_from(EmailMessage).where(EmailMessage.status == "new"))
    assert waiting == 2
    with ScriptedOpenAIServer([draft]) as second_server:
        second = start_cli(
            "reply",
            "--batch",
            batch,
            "--out",
            out,
            env_extra={"OPENAI_BASE_URL": second_server.base_url, "OPENAI_API_KEY": "sk-test", "MERCURY_BACKEND": "openai"},
        )
        _, stderr = second.communicate(timeout=600)
    assert second.returncode == 0, stderr
    assert len(second_server.requests) == waiting  # only the drafts still missing were asked for
    assert count(select(func.count()).select_from(EmailMessage)) == 12
    assert count(select(func.count()).select_from(EmailMessage).where(EmailMessage.status == "drafted")) == 10
    frame = pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
    assert len(frame) == 12 and (frame["draft"] != "").sum() == 10
