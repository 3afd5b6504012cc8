"""Jobs that outlive the page (core/jobs): submitted from the CLI, run by real `python -m core worker`
processes on Huey's SQLite queue and on a real Redis (Debian's redis-server, started here on a free
loopback port), a worker killed mid-job and replaced, cancelling, failing, and two workers sharing a
queue with no job run twice."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from sqlalchemy import func
from sqlmodel import select

from core.db import Dataset, Review, session_scope
from core.i18n import Msg
from tests.conftest import ROOT, run_cli
from tests.dovecot import free_port
from tests.system_tools import requires_command
from tests.test_concurrent_runs import fresh_reviews


def start_worker(env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "core", "worker", "--threads", "1"], cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )


def stop(worker: subprocess.Popen) -> str:
    worker.send_signal(signal.SIGINT)
    try:
        return worker.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        worker.kill()
        return worker.communicate()[1]


def queued(*args) -> int:
    """`python -m core ARGS --queue --json`: the job's id."""
    done = run_cli(*args, "--queue", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["job"]


def waited_for(job: int, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m core jobs wait JOB` while a real worker, started for it, runs the queue."""
    worker = start_worker(env)
    try:
        return run_cli("jobs", "wait", job, "--quiet", "--timeout", str(timeout))
    finally:
        stop(worker)


def count(query) -> int:
    with session_scope() as session:
        return session.exec(query).one()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MERCURY_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.mark.slow
@pytest.mark.model
def test_a_queued_analysis_is_run_by_a_worker_and_waited_for(tmp_path, data_dir):
    path = tmp_path / "reviews.csv"
    fresh_reviews(path, 40)
    job = queued("sentiment", path)
    listed = json.loads(run_cli("jobs", "--json").stdout)
    assert [(j["id"], j["kind"], j["state"]) for j in listed] == [(job, "sentiment", "queued")]
    waited = waited_for(job, 300)
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["rows"] == 40
    assert count(select(func.count()).select_from(Review).where(Review.sentiment.is_not(None))) == 40
    (line,) = run_cli("jobs").stdout.splitlines()
    assert line.split()[:3] == [str(job), "sentiment", "done"]


@pytest.mark.slow
@pytest.mark.model
def test_a_worker_killed_mid_analysis_is_replaced_and_the_job_finishes_every_row_once(tmp_path, data_dir):
    from core.jobs.store import get_job

    path = tmp_path / "reviews.csv"
    fresh_reviews(path, 3000)
    job = queued("sentiment", path)
    env = {"MERCURY_JOB_STALE_S": "3"}
    first = start_worker(env)
    deadline = time.monotonic() + 300
    while count(select(func.count()).select_from(Review).where(Review.sentiment.is_not(None))) == 0:
        assert first.poll() is None and time.monotonic() < deadline, "the worker ended before it could be killed"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    scored_before = count(select(func.count()).select_from(Review).where(Review.sentiment.is_not(None)))
    assert 0 < scored_before < 3000 and get_job(job).state == "running"
    time.sleep(3.5)  # its heartbeat goes silent: the next worker takes the job back
    waited = waited_for(job, env=env)  # a second worker
    assert waited.returncode == 0, waited.stderr
    assert get_job(job).attempts == 2
    assert count(select(func.count()).select_from(Dataset)) == 1
    assert count(select(func.count()).select_from(Review)) == 3000
    assert count(select(func.count()).select_from(Review).where(Review.sentiment.is_not(None))) == 3000


def test_a_cancelled_job_stops_at_its_next_chunk_and_keeps_what_is_done(data_dir, monkeypatch):
    from core.jobs import kinds, queue, store

    seen = []

    def counting(job, report):
        for done in range(1, 100):
            seen.append(done)
            report(done, 99, Msg("counted {done}", done=done))
            if done == 3:
                store.cancel(job.id)
        return {"counted": len(seen)}

    monkeypatch.setitem(kinds.KINDS, "count", counting)
    job = queue.submit("count", {})
    queue.run_job(job)
    view = store.JobView.of(store.get_job(job))
    assert (view.state, view.done, seen) == ("cancelled", 4, [1, 2, 3, 4])  # the chunk under way when it was cancelled is the last
    assert str(view.error) == "Cancelled after 4 of 99: what is done is kept."
    queued = queue.submit("count", {})
    assert store.cancel(queued).state == "cancelled"
    queue.run_job(queued)  # a cancelled job is never claimed
    assert seen == [1, 2, 3, 4]


def test_a_job_that_keeps_failing_stops_after_three_tries_with_its_error(data_dir, monkeypatch):
    from core.errors import IngestError
    from core.jobs import kinds, queue, store

    tries = []

    def broken(job, report):
        tries.append(job.attempts)
        raise RuntimeError("the disk is full")

    monkeypatch.setitem(kinds.KINDS, "broken", broken)
    monkeypatch.setattr(queue, "enqueue", lambda job_id: None)  # the test is the worker: it runs the job each time
    job = queue.submit("broken", {})
    for _ in range(3):
        queue.run_job(job)
    view = store.JobView.of(store.get_job(job))
    assert tries == [1, 2, 3] and view.state == "failed" and str(view.error) == "It failed 3 times: the disk is full"

    def refused(job, report):
        raise IngestError(Msg("{name} is empty.", name="reviews.csv"))

    monkeypatch.setitem(kinds.KINDS, "refused", refused)
    job = queue.submit("refused", {})
    queue.run_job(job)  # a sentence for the person: not tried again
    assert store.get_job(job).state == "failed" and str(store.JobView.of(store.get_job(job)).error) == "reviews.csv is empty."


@pytest.mark.slow
def test_waiting_for_a_failed_job_exits_2_with_its_sentence(tmp_path, data_dir):
    empty = tmp_path / "empty.csv"
    empty.write_text("review\n")
    job = queued("sentiment", empty)
    waited = waited_for(job, 120)
    assert waited.returncode == 2
    assert waited.stderr.startswith(f"error: Job {job} failed: ")


def test_two_claims_of_one_job_give_it_to_one_worker(data_dir):
    from core.jobs import queue, store

    job = queue.submit("mailbox_push", {})
    assert store.claim(job) and not store.claim(job)


@pytest.fixture
def redis_url():
    port = free_port()
    folder = tempfile.mkdtemp(prefix="mercury-redis-")
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", folder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.model
@requires_command("redis-server")
def test_two_workers_on_redis_share_the_queue_and_run_no_job_twice(tmp_path, data_dir, redis_url, monkeypatch):
    from core.db import Job

    monkeypatch.setenv("MERCURY_QUEUE_URL", redis_url)
    jobs = []
    for n in range(6):
        path = tmp_path / f"reviews-{n}.csv"
        fresh_reviews(path, 30 + n)
        jobs.append(queued("sentiment", path))
    workers = [start_worker(), start_worker()]
    try:
        for job in jobs:
            assert run_cli("jobs", "wait", job, "--quiet", "--timeout", "600").returncode == 0
    finally:
        for worker in workers:
            stop(worker)
    with session_scope() as session:
        done = session.exec(select(Job)).all()
    assert sorted(j.id for j in done) == sorted(jobs) and {j.state for j in done} == {"done"} and {j.attempts for j in done} == {1}
    assert len({j.worker for j in done}) == 2  # both took jobs
    assert count(select(func.count()).select_from(Dataset)) == 6


def test_the_jobs_page_lists_jobs_and_cancels_one(data_dir):
    from streamlit.testing.v1 import AppTest

    from core.jobs import queue, store

    job = queue.submit("mailbox_pull", {}, requested_by="swift-otter")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    at.switch_page("app_pages/jobs.py").run()
    assert not at.exception
    (table,) = at.dataframe
    assert table.value[["id", "kind", "state", "requested_by"]].values.tolist() == [[job, "Check mail", "queued", "swift-otter"]]
    at.button(key="jobs_cancel").click().run()
    assert store.get_job(job).state == "cancelled"


@pytest.mark.slow
@pytest.mark.model
def test_the_sentiment_page_analyses_on_the_worker_and_a_reopened_page_follows_the_job_to_its_dashboard(data_dir):
    from streamlit.testing.v1 import AppTest

    from core.jobs.store import active_job, get_job, worker_alive

    def page() -> AppTest:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
        return at.switch_page("app_pages/sentiment.py").run()

    worker = start_worker()
    try:
        deadline = time.monotonic() + 60
        while not worker_alive():
            assert time.monotonic() < deadline and worker.poll() is None, "the worker did not start"
            time.sleep(0.2)
        at = page()
        at.button(key="sentiment_sample").click().run()
        at.button(key="sentiment_analyse").click().run()
        assert not at.exception
        job = active_job("score")
        assert job is not None and job.requested_by.startswith("browser ")
        reopened = page()  # another visit, as after closing the tab: the job's progress, from the database
        assert any("Analysing on the worker" in p.text for p in reopened.get("progress")) or get_job(job.id).state == "done"
        deadline = time.monotonic() + 600
        while get_job(job.id).state in ("queued", "running"):
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.5)
        at.run()  # the first visitor's page, once the job is done: its dataset's dashboard
        assert not at.exception and get_job(job.id).state == "done"
        assert at.selectbox(key="sentiment_pick").value == get_job(job.id).result["dataset_id"] and at.metric[0].label == "Reviews"
        assert not any("not fully analysed" in w.value for w in at.warning)  # every review scored: nothing left to resume
    finally:
        stop(worker)


def labelled_file(path, copies: int = 3) -> None:
    import pandas as pd

    from tests.test_lab import BAD, GOOD

    pd.DataFrame({"review": (GOOD + BAD) * copies, "label": (["positive"] * len(GOOD) + ["negative"] * len(BAD)) * copies}).to_csv(path, index=False)


@pytest.mark.slow
@pytest.mark.model
def test_a_queued_fine_tune_runs_on_the_worker_and_its_model_becomes_a_classifier(tmp_path, data_dir):
    from core.jobs.store import get_job
    from core.models.sentiment import model_folder, saved_models

    path, folder = tmp_path / "labelled.csv", model_folder("tuned")
    labelled_file(path)
    job = queued("finetune", "--input", path, "--text-column", "review", "--label-column", "label", "--out", folder, "--epochs", "1")
    assert not folder.exists()  # submitted, not trained in the terminal
    waited = waited_for(job)
    assert waited.returncode == 0, waited.stderr
    result = json.loads(waited.stdout)
    assert result["split"] == {"train": 24, "validation": 6, "test": 6} and result["out_dir"] == str(folder)
    assert saved_models()[result["model_id"]] == folder
    (line,) = run_cli("jobs").stdout.splitlines()
    assert line.split()[:3] == [str(job), "finetune", "done"]
    assert get_job(job).done == get_job(job).total > 0  # it reported every training step


@pytest.mark.slow
@pytest.mark.model
def test_a_cancelled_fine_tune_stops_at_its_next_step_and_says_nothing_was_kept(tmp_path, data_dir, monkeypatch):
    from core.jobs import queue, store
    from core.jobs.kinds import labelled_payload
    from tests.test_lab import BAD, GOOD

    reported = store.report

    def cancelling(job_id, done, total, said):
        if done == 2:
            store.cancel(job_id)
        reported(job_id, done, total, said)

    monkeypatch.setattr(store, "report", cancelling)
    rows = labelled_payload((GOOD + BAD) * 2, (["positive"] * 6 + ["negative"] * 6) * 2)
    job = queue.submit("finetune", {"out": str(tmp_path / "tuned"), "epochs": 3}, payload=rows)
    queue.run_job(job)
    ended = store.JobView.of(store.get_job(job))
    assert ended.state == "cancelled" and ended.done == 2
    assert ended.error.render("en").startswith("Cancelled at step 2 of ") and not (tmp_path / "tuned").exists()


@pytest.mark.slow
@pytest.mark.model
def test_a_batch_of_replies_queued_from_the_cli_is_drafted_by_a_worker(tmp_path, data_dir):
    import pandas as pd

    from core.db import EmailMessage

    batch = tmp_path / "mail.csv"
    pd.read_csv(ROOT / "sample_data" / "emails.csv").head(3).to_csv(batch, index=False)
    job = queued("reply", "--batch", batch)
    waiting = count(select(func.count()).select_from(EmailMessage).where(EmailMessage.status == "new"))
    assert waiting > 0  # triaged in the terminal, drafted by the worker
    waited = waited_for(job)
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout) == {"emails": waiting}
    assert count(select(func.count()).select_from(EmailMessage).where(EmailMessage.status == "new")) == 0
    assert count(select(func.count()).select_from(EmailMessage).where(EmailMessage.status == "drafted")) == waiting


def test_reply_queue_goes_with_a_batch_only(tmp_path, data_dir):
    refused = run_cli("reply", "--batch", ROOT / "sample_data" / "emails.csv", "--out", tmp_path / "drafts.csv", "--queue")
    assert refused.returncode == 2 and refused.stderr.startswith("error: --queue goes with --batch") and not (tmp_path / "drafts.csv").exists()


@pytest.mark.slow
@pytest.mark.model
def test_the_email_page_drafts_on_the_worker_and_follows_the_job(data_dir):
    from streamlit.testing.v1 import AppTest

    from core.jobs import queue, store

    store.worker_seen()  # a worker is alive: the page submits instead of drafting in its own script
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page("app_pages/email.py").run()
    at.text_area[0].input("Subject: Where is my refund?\n\nI sent the headset back two weeks ago. When will the money be back on my card?")
    at.button[0].click().run()  # Add to queue
    at.button(key="email_draft_all").click().run()
    assert not at.exception
    job = store.active_job("drafts")
    assert job is not None and job.inputs["backend"] == "embedded" and "api_key" not in job.inputs
    assert any("Drafting on the worker" in p.text for p in at.get("progress"))
    queue.run_job(job.id)  # the worker's part, here
    at.run()
    assert not at.exception and store.get_job(job.id).state == "done"
    assert any("All drafts are ready for review" in s.value for s in at.success)
