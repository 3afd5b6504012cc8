"""Jobs in the database, where every page, visitor and worker sees the same state.

A worker claims a job with one conditional UPDATE (queued, or running with a heartbeat older than
MERCURY_JOB_STALE_S: its worker died), so two workers never run the same job at once; a running job's
heartbeat is refreshed every HEARTBEAT_S by its worker; a job claimed MAX_ATTEMPTS times without
finishing stops with its error. Cancelling sets a flag the job reads at its next chunk.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, update
from sqlmodel import select

from core.config import setting
from core.db import Job, WorkerSeen, session_scope, utcnow
from core.errors import JobCancelled, UserError
from core.i18n import Msg, revive, stored

STATES = ("queued", "running", "done", "failed", "cancelled")
ENDED = ("done", "failed", "cancelled")
HEARTBEAT_S = 5.0
MAX_ATTEMPTS = 3


def stale_after() -> timedelta:
    """How long a running job's heartbeat may be silent before its worker counts as dead."""
    return timedelta(seconds=float(setting("MERCURY_JOB_STALE_S", default="60")))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(job_id: int) -> bool:
    """Take the job for this worker: True when it is now ours to run."""
    now = utcnow()
    claimable = or_(Job.state == "queued", (Job.state == "running") & (Job.heartbeat_at < now - stale_after()))
    with session_scope() as session:
        claimed = session.exec(
            update(Job)
            .where(Job.id == job_id, claimable, Job.cancel_requested.is_(False))
            .values(state="running", worker=worker_name(), attempts=Job.attempts + 1, heartbeat_at=now, started_at=now)
        )
        session.commit()
        return claimed.rowcount == 1


def heartbeat(job_id: int) -> None:
    with session_scope() as session:
        session.exec(update(Job).where(Job.id == job_id, Job.state == "running").values(heartbeat_at=utcnow()))
        session.commit()


def report(job_id: int, done: int, total: int, progress: Msg) -> None:
    """Progress in the database (with the heartbeat); JobCancelled when a person asked to stop."""
    with session_scope() as session:
        session.exec(update(Job).where(Job.id == job_id).values(done=done, total=total, progress=stored(progress), heartbeat_at=utcnow()))
        session.commit()
        if session.get(Job, job_id).cancel_requested:
            raise JobCancelled(Msg("Cancelled after {done} of {total}: what is done is kept.", done=done, total=total))


def _end(job_id: int, state: str, **values) -> None:
    with session_scope() as session:
        session.exec(update(Job).where(Job.id == job_id).values(state=state, finished_at=utcnow(), **values))
        session.commit()


def requeue(job_id: int) -> None:
    """Back to the queue after an unexpected failure (the worker enqueues it again)."""
    with session_scope() as session:
        session.exec(update(Job).where(Job.id == job_id).values(state="queued"))
        session.commit()


def finish(job_id: int, result: dict) -> None:
    _end(job_id, "done", result=result, progress=stored(Msg("done")))


def fail(job_id: int, error: Exception) -> None:
    """The job stops with its error as one sentence (a MercuryError's own, else the exception's text)."""
    _end(job_id, "failed", error=stored(getattr(error, "msg", None) or str(error)))


def cancelled(job_id: int, why: JobCancelled) -> None:
    _end(job_id, "cancelled", error=stored(why.msg))


def cancel(job_id: int) -> Job:
    """Ask a job to stop: a queued one stops at once, a running one at its next chunk."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise UserError(Msg("There is no job {job_id}.", job_id=str(job_id)))
        if job.state in ENDED:
            return job
        job.cancel_requested = True
        if job.state == "queued":
            job.state, job.finished_at, job.error = "cancelled", utcnow(), stored(Msg("Cancelled before it started."))
        session.add(job)
        session.commit()
        session.refresh(job)
        return job


def get_job(job_id: int) -> Job:
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise UserError(Msg("There is no job {job_id}.", job_id=str(job_id)))
        session.expunge(job)
        return job


def recent_jobs(limit: int = 50, *, kind: str | None = None, requested_by: str | None = None) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if kind:
        query = query.where(Job.kind == kind)
    if requested_by:
        query = query.where(Job.requested_by == requested_by)
    with session_scope() as session:
        jobs = list(session.exec(query))
        for job in jobs:
            session.expunge(job)
        return jobs


WORKER_SEEN_S = 15.0  # a worker says it is alive every HEARTBEAT_S; silent this long, it is gone


def worker_seen() -> None:
    """This worker is alive (every HEARTBEAT_S while it runs)."""
    with session_scope() as session:
        row = session.get(WorkerSeen, worker_name()) or WorkerSeen(name=worker_name())
        row.seen_at = utcnow()
        session.add(row)
        session.commit()


def worker_alive() -> bool:
    """Whether any worker said it was alive in the last WORKER_SEEN_S: jobs submitted now will run."""
    with session_scope() as session:
        return session.exec(select(WorkerSeen).where(WorkerSeen.seen_at > utcnow() - timedelta(seconds=WORKER_SEEN_S))).first() is not None


def active_job(kind: str) -> Job | None:
    """The newest queued or running job of a kind, whoever asked: what a page that reopens shows."""
    with session_scope() as session:
        job = session.exec(select(Job).where(Job.kind == kind, Job.state.in_(["queued", "running"])).order_by(Job.id.desc())).first()
        if job is not None:
            session.expunge(job)
        return job


@dataclass
class JobView:
    """A job as pages and the CLI show it."""

    id: int
    kind: str
    state: str
    done: int
    total: int
    progress: Msg | str
    error: Msg | str
    result: dict
    requested_by: str
    seconds: float | None

    @classmethod
    def of(cls, job: Job) -> "JobView":
        end = job.finished_at or (utcnow() if job.started_at else None)
        seconds = (end - job.started_at).total_seconds() if end and job.started_at else None
        return cls(job.id, job.kind, job.state, job.done, job.total, revive(job.progress), revive(job.error), job.result, job.requested_by, seconds)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("id", "kind", "state", "done", "total", "progress", "error", "result", "requested_by", "seconds")}
