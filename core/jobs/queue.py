"""The task queue that carries job ids to workers: Huey (https://huey.readthedocs.io).

One machine needs no server: Huey's SQLite storage in the data folder (`queue.db`), and the worker
that `make run` starts beside the app. A team sets MERCURY_QUEUE_URL to a Redis (`redis://host:6379/0`)
and runs `python -m core worker` on as many machines as it likes, all sharing one DATABASE_URL: Redis
hands each message to one worker, and the database claim (core.jobs.store.claim) makes sure that a
job handed out twice (recovered from a dead worker while a slow one still runs it) runs once.
"""
from __future__ import annotations

import logging
import threading
import traceback
from functools import lru_cache

from huey import RedisHuey, SqliteHuey
from huey.consumer import Consumer
from sqlmodel import select

from core.config import data_dir, setting
from core.db import Job, session_scope, utcnow
from core.errors import JobCancelled, MercuryError, UserError
from core.i18n import Msg, stored
from core.jobs import store
from core.jobs.kinds import KINDS

log = logging.getLogger("mercury.jobs")
RECOVER_EVERY_S = 30


@lru_cache(maxsize=4)
def _huey(url: str, folder: str):
    """(the Huey, its run_job task) for a Redis URL, or for SQLite in `folder`."""
    huey = RedisHuey("mercury", url=url) if url else SqliteHuey("mercury", filename=f"{folder}/queue.db")
    return huey, huey.task(name="run_job", retries=0)(run_job)


def queue():
    """The Huey of this configuration (MERCURY_QUEUE_URL, else SQLite in MERCURY_DATA_DIR) and its task."""
    return _huey(setting("MERCURY_QUEUE_URL"), str(data_dir()))


def enqueue(job_id: int) -> None:
    queue()[1](job_id)


def submit(kind: str, inputs: dict, *, requested_by: str = "cli", payload: bytes | None = None) -> int:
    """Store a job and hand its id to the queue; the id comes back at once."""
    if kind not in KINDS:
        raise UserError(Msg("There is no kind of job called {kind}.", kind=kind))
    with session_scope() as session:
        job = Job(kind=kind, inputs=inputs, payload=payload, requested_by=requested_by, progress=stored(Msg("waiting for a worker")))
        session.add(job)
        session.commit()
        session.refresh(job)
        job_id = job.id
    enqueue(job_id)
    return job_id


def recover() -> list[int]:
    """Jobs whose worker died (running, heartbeat silent past store.stale_after()): back to the queue,
    or failed once they were tried store.MAX_ATTEMPTS times. Returns the ids handed back to the queue."""
    limit = utcnow() - store.stale_after()
    with session_scope() as session:
        dead = list(session.exec(select(Job).where(Job.state == "running", Job.heartbeat_at < limit)))
        again = []
        for job in dead:
            if job.attempts >= store.MAX_ATTEMPTS:
                job.state, job.finished_at = "failed", utcnow()
                job.error = stored(Msg("Its worker stopped {count} times before it finished: it is not tried again.", count=job.attempts))
            else:
                again.append(job.id)
            session.add(job)
        session.commit()
    for job_id in again:
        enqueue(job_id)
    return again


def run_job(job_id: int) -> None:
    """Run one job if this worker can claim it; its progress, result or error go to the database."""
    if not store.claim(job_id):
        return  # another worker has it, or it was cancelled or finished
    beating = threading.Event()

    def beat() -> None:
        while not beating.wait(store.HEARTBEAT_S):
            store.heartbeat(job_id)

    threading.Thread(target=beat, daemon=True).start()
    job = store.get_job(job_id)
    try:
        result = KINDS[job.kind](job, lambda done, total, said: store.report(job_id, done, total, said))
    except JobCancelled as stop:
        store.cancelled(job_id, stop)
    except MercuryError as error:  # a sentence for the person: trying again would fail the same way
        store.fail(job_id, error)
    except Exception as error:  # noqa: BLE001 - a worker survives any job; the job says what went wrong
        log.error("job %s failed: %s", job_id, traceback.format_exc())
        if job.attempts < store.MAX_ATTEMPTS:
            store.requeue(job_id)
            enqueue(job_id)
        else:
            store.fail(job_id, MercuryError(Msg("It failed {count} times: {problem}", count=job.attempts, problem=str(error)[:300])))
    else:
        store.finish(job_id, result)
    finally:
        beating.set()


def run_worker(threads: int | None = None) -> None:
    """`python -m core worker`: a Huey consumer with one job at a time, torch on `threads` (default:
    the cores this process may use), saying it is alive every HEARTBEAT_S, dead workers' jobs
    recovered at start and every RECOVER_EVERY_S."""
    import os

    import torch

    torch.set_num_threads(threads or len(os.sched_getaffinity(0)))
    recovered = recover()
    if recovered:
        log.info("recovered jobs %s", recovered)
    stop = threading.Event()

    def alive() -> None:
        beats = 0
        while True:
            store.worker_seen()
            if beats % int(RECOVER_EVERY_S / store.HEARTBEAT_S) == 0 and beats:
                recover()
            beats += 1
            if stop.wait(store.HEARTBEAT_S):
                return

    threading.Thread(target=alive, daemon=True).start()
    consumer: Consumer = queue()[0].create_consumer(workers=1, worker_type="thread", periodic=False)
    try:
        consumer.run()
    finally:
        stop.set()
