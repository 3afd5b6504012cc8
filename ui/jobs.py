"""Long work on a worker, as the pages submit and follow it: `on_worker` submits a job when a worker
is alive, `follow_job` shows the page's job with a bar that updates itself and a Cancel button, and
when the job ends the page hears its result (or its error) and reruns on it."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from core.jobs.kinds import backend_inputs
from core.jobs.queue import submit
from core.jobs.store import JobView, active_job, cancel, get_job, worker_alive
from ui.i18n import say, t
from ui.session import session_name


def on_worker(kind: str, key: str, inputs: dict, *, spec=None, payload: bytes | None = None) -> bool:
    """Submit the work as a job when a worker is alive and, given the sidebar's `spec`, can build
    that backend again (a key typed into this browser session only stays here): True, the job's id
    kept for follow_job; False, and the page does the work itself."""
    if not worker_alive():
        return False
    backend = {} if spec is None else backend_inputs(spec)
    if backend is None:
        return False
    st.session_state[key + "job"] = submit(kind, {**inputs, **backend}, payload=payload, requested_by=session_name())
    return True


def follow_job(kind: str, key: str, working: str, on_done: Callable[[JobView], None]) -> int | None:
    """The page's job of this kind (the one this visitor submitted, else anyone's newest still queued
    or running: what a reopened page shows), followed; its id, or None when there is none. Before it,
    the sentence of the job that failed or was cancelled, once."""
    if error := st.session_state.pop(key + "job_error", None):
        st.error(error)
    running = st.session_state.get(key + "job") or getattr(active_job(kind), "id", None)
    if running:
        _follow(running, key, working, on_done)
    return running


@st.fragment(run_every=1)
def _follow(job_id: int, key: str, working: str, on_done: Callable[[JobView], None]) -> None:
    """`working` is the sentence over the bar, with {said} for the job's own progress; once the job
    is done `on_done(view)` runs; a failed or cancelled job's sentence waits in session_state[key + "job_error"]."""
    view = JobView.of(get_job(job_id))
    if view.state in ("queued", "running"):
        left, right = st.columns([5, 1])
        left.progress(view.done / view.total if view.total else 0.0, text=t(working, said=say(view.progress)))
        if right.button(t("Cancel"), key=key + "cancel_job", width="stretch"):
            cancel(job_id)
        return
    st.session_state.pop(key + "job", None)
    if view.state == "done":
        on_done(view)
    else:
        st.session_state[key + "job_error"] = say(view.error)
    st.rerun()
