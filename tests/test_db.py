"""The storage layer on SQLite and, where .ci/run or `make test` started one, on PostgreSQL."""
import os
import subprocess
import threading

import pytest
from sqlalchemy import text
from sqlmodel import select

from core import db
from core.usage import calls_frame, record_call, totals
from tests.conftest import ROOT
from tests.system_tools import requires

POSTGRES_URL = os.environ.get("MERCURY_TEST_POSTGRES_URL", "")
DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=[pytest.mark.postgres, requires(bool(POSTGRES_URL), "no PostgreSQL: `make test` and .ci/run start Debian's on loopback")],
    ),
]


@pytest.fixture(params=DATABASES)
def database(request, monkeypatch, tmp_path):
    if request.param == "postgres":
        monkeypatch.setenv("DATABASE_URL", POSTGRES_URL)
        engine = db.get_engine()
        with engine.begin() as connection:  # each test starts from empty tables
            connection.execute(text("truncate llm_call restart identity"))
    return request.param


def test_tables_are_created_at_start_at_alembics_newest_revision(database):
    engine = db.get_engine()
    assert db.schema_revision(engine) == db.head_revision() == "0005"
    assert engine.dialect.name == ("sqlite" if database == "sqlite" else "postgresql")
    assert db.ping().startswith("SQLite" if database == "sqlite" else "PostgreSQL")


def test_usage_rows_round_trip_and_total_per_page(database):
    for page, tokens in (("email", 10), ("email", 5), ("content", 7)):
        record_call(page=page, backend="openai", model="gpt-4o-mini", tokens_in=tokens, tokens_out=1, latency_s=0.2, cost_usd=0.01)
    frame = calls_frame()
    assert len(frame) == 3
    per_page = totals(frame, "page").set_index("page")
    assert per_page.loc["email", "tokens_in"] == 15
    assert per_page.loc["email", "calls"] == 2
    assert per_page.loc["content", "cost_usd"] == pytest.approx(0.01)


def test_concurrent_writers_lose_nothing(database):
    def write(n):
        for _ in range(20):
            record_call(page=f"p{n}", backend="embedded", model="m", tokens_in=1, tokens_out=1, latency_s=0.0)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with db.session_scope() as session:
        assert len(session.exec(select(db.LLMCall)).all()) == 80


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout():
    with db.get_engine().connect() as connection:
        assert connection.execute(text("pragma journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("pragma busy_timeout")).scalar_one() == db.SQLITE_BUSY_TIMEOUT_MS


def test_plain_postgresql_urls_use_psycopg():
    assert db.normalise_url("postgresql://u:p@h/d") == "postgresql+psycopg://u:p@h/d"
    assert db.normalise_url("postgres://u:p@h/d") == "postgresql+psycopg://u:p@h/d"
    assert db.normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_a_database_from_the_previous_schema_upgrades_in_place_with_its_rows(tmp_path, monkeypatch):
    """tests/data/mercury-schema-6.db was written by Mercury's code at schema 6, before datasets and
    emails gained their resume keys."""
    import shutil

    from sqlalchemy import inspect

    path = tmp_path / "old.db"
    shutil.copy(ROOT / "tests" / "data" / "mercury-schema-6.db", path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    engine = db.get_engine()
    assert db.schema_revision(engine) == db.head_revision()
    assert "fingerprint" in {c["name"] for c in inspect(engine).get_columns("dataset")}
    assert "identity" in {c["name"] for c in inspect(engine).get_columns("email_message")}
    with db.session_scope() as session:
        reviews = session.exec(select(db.Review).order_by(db.Review.row_index)).all()
        mail = session.exec(select(db.EmailMessage)).one()
    assert [(r.text, r.sentiment) for r in reviews] == [("Loved it", "positive"), ("Broke in a week", "negative")]
    assert mail.approved_text == "Hi Ana, it ships today." and mail.identity is None
    assert calls_frame()["model"].tolist() == ["SmolLM2"]


@pytest.mark.slow
def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path):
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    opening = [
        subprocess.Popen([sys.executable, "-c", "from core import db; db.get_engine()"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    for process in opening:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr


def test_a_database_written_by_mercury_before_the_redesign_opens_with_every_row(tmp_path, monkeypatch):
    """tests/data/mercury-schema-7.db was written by the code on main before core/ was reorganised
    into packages (commit 8fc8276): one row in every table, text in Polish, Chinese and Romanian."""
    import shutil

    path = tmp_path / "v7.db"
    shutil.copy(ROOT / "tests" / "data" / "mercury-schema-7.db", path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    from core.brand import current_brand
    from core.lab.evaluate import runs_frame
    from core.mail.queue import facts_of, get_email, queue_frame
    from core.reports.store import definitions, history
    from core.sentiment.alerts import rules_for
    from core.sentiment.datasets import export_frame, list_datasets

    assert db.schema_revision(db.get_engine()) == db.head_revision()
    (dataset_id,) = list_datasets()["id"].tolist()
    exported = export_frame(dataset_id)
    assert exported["review"].tolist() == ["Ładny i szybki", "坏了"] and exported["sentiment"].tolist() == ["positive", "negative"]
    assert [(r.name, r.min_reviews) for r in rules_for(dataset_id)] == [("Negative spike", 20)]
    assert [d.name for d in definitions()] == ["Monthly"] and history()["title"].tolist() == ["Monthly"]
    mail = get_email(int(queue_frame()["id"].iloc[0]))
    assert mail.body == "Unde este comanda mea?" and mail.approved_text == "Salut Ana, comanda pleacă azi." and facts_of(mail) == []
    assert current_brand().facts == ["Delivery takes 2-4 days."]
    assert runs_frame()["macro_f1"].tolist() == [0.88]
    assert calls_frame()["model"].tolist() == ["SmolLM2"]
    # Resuming the old dataset gives its reviews a language and themes, and keeps the scores it had.
    from core.classifiers import get_classifier
    from core.sentiment.datasets import reviews_frame, score_dataset

    before = reviews_frame(dataset_id)
    assert score_dataset(dataset_id, get_classifier())["scored_now"] == 2
    after = reviews_frame(dataset_id)
    assert after["language"].tolist() == ["pl", "zh"] and after["themes"].notna().all()
    assert after[["sentiment", "score", "model"]].equals(before[["sentiment", "score", "model"]])


def _every_row(connection) -> dict[str, list[tuple]]:
    from sqlalchemy import inspect

    tables = sorted(set(inspect(connection).get_table_names()) - {"alembic_version", "schema_version"})
    return {t: [tuple(r) for r in connection.execute(text(f"select * from {t} order by 1, 2"))] for t in tables}


def test_a_database_written_by_main_before_alembic_upgrades_with_every_row_and_json_reads_as_structures(tmp_path, monkeypatch):
    """tests/data/mercury-schema-9.db was written by main just before Alembic (schema_version 9): one
    row in every table, text in Polish, Chinese and Romanian, JSON held as text."""
    import shutil
    import sqlite3

    from core.brand import current_brand
    from core.mail.queue import facts_of, get_email, reasons_of
    from core.reports.store import definitions, history
    from core.sentiment.datasets import export_frame, get_dataset

    path = tmp_path / "v9.db"
    shutil.copy(ROOT / "tests" / "data" / "mercury-schema-9.db", path)
    with sqlite3.connect(path) as old:
        counts = {t: old.execute(f"select count(*) from {t}").fetchone()[0] for (t,) in old.execute("select name from sqlite_master where type='table'")}
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    engine = db.get_engine()
    assert db.schema_revision(engine) == db.head_revision()
    with engine.connect() as connection:
        after = _every_row(connection)
    new_tables = {"review_theme": 0, "theme_scope": 0, "mailbox_state": 0, "job": 0, "worker_seen": 0}  # 0003: themes are found again when a dataset is opened
    assert {t: len(rows) for t, rows in after.items()} == {t: n for t, n in counts.items() if t != "schema_version"} | new_tables
    dataset = get_dataset(1)
    assert dataset.mapping == {"text": "reviews.text", "rating": "评分"} and dataset.columns == ["reviews.text", "评分", "kanał"]
    assert dataset.skip_reasons == {"empty text": 1} and dataset.calibration == {"slope": 1.2, "intercept": -0.1}
    assert export_frame(1)["kanał"].tolist() == ["sklep", "天猫"]
    assert current_brand().facts == ["Livrarea durează 2-4 zile.", "配送需要2-4天。"]
    mail = get_email(1)
    assert facts_of(mail) == ["Livrarea durează 2-4 zile."] and [m.text for m in reasons_of(mail)] == ["holds {count} links"]
    assert (mail.thread_references, mail.no_reply_reason, mail.pushed_uid) == ("", "", None) and current_brand().reply_examples == []
    assert definitions()[0].channels == ["sklep", "天猫"] and history()["files"].iloc[0]["pdf"] == "reports/raport.pdf"
    with db.session_scope() as session:
        assert session.exec(select(db.LabRun)).one().details["confusion"] == [[5, 1], [0, 6]]
        assert session.exec(select(db.ContentPiece)).one().brief["keywords"] == ["bateria"]


@pytest.mark.postgres
@requires(bool(POSTGRES_URL), "no PostgreSQL: `make test` and .ci/run start Debian's on loopback")
@pytest.mark.parametrize("tracked", [True, False], ids=["at-the-baseline", "before-alembic"])
def test_postgres_upgrades_text_json_in_place_with_every_row(monkeypatch, tracked):
    """A PostgreSQL database at the baseline (0001, JSON as VARCHAR), with or without Alembic's own
    table (as main wrote it before Alembic), reaches the newest revision with its rows, now typed."""
    from alembic import command
    from sqlalchemy import create_engine

    url = db.normalise_url(POSTGRES_URL)
    scratch = create_engine(url, isolation_level="AUTOCOMMIT")
    with scratch.connect() as connection:
        connection.execute(text("drop database if exists mercury_upgrade"))
        connection.execute(text("create database mercury_upgrade"))
    scratch.dispose()
    old_url = url.rsplit("/", 1)[0] + "/mercury_upgrade"
    old = create_engine(old_url)
    with old.begin() as connection:
        command.upgrade(db._alembic_config(connection), "0001")
        connection.execute(text(
            "insert into dataset (name, created_at, source, rows, skipped, skip_reasons, mapping, columns, classifier, calibration)"
            " values ('Opinie', now(), 'o.csv', 1, 0, '{}', '{\"text\": \"opinia\"}', '[\"opinia\", \"评分\"]', 'embedded', '')"
        ))
        connection.execute(text(
            "insert into review (dataset_id, row_index, text, product, channel, external_id, extra, model)"
            " values (1, 0, 'Świetne', '', '', '', '{\"评分\": \"5\"}', '')"
        ))
        if not tracked:
            connection.execute(text("drop table alembic_version"))
    old.dispose()
    try:
        monkeypatch.setenv("DATABASE_URL", old_url)
        engine = db.get_engine()
        assert db.schema_revision(engine) == db.head_revision()
        with db.session_scope() as session:
            dataset = session.exec(select(db.Dataset)).one()
            review = session.exec(select(db.Review)).one()
        assert dataset.mapping == {"text": "opinia"} and dataset.columns == ["opinia", "评分"] and dataset.calibration is None
        assert review.extra == {"评分": "5"} and review.text == "Świetne"
        with engine.connect() as connection:
            kinds = dict(connection.execute(text("select column_name, data_type from information_schema.columns where table_name = 'review'")).all())
        assert kinds["extra"] == "json"
    finally:
        db.dispose_engines()
        scratch = create_engine(url, isolation_level="AUTOCOMMIT")
        with scratch.connect() as connection:
            connection.execute(text("drop database if exists mercury_upgrade"))
        scratch.dispose()


def test_alembic_history_lists_the_revisions():
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "alembic"), "history"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for step in ("0004 -> 0005 (head)", "0003 -> 0004", "0002 -> 0003", "0001 -> 0002", "<base> -> 0001"):
        assert step in done.stdout
