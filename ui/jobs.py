"""A job's progress on the page that submitted it: a bar that updates itself and a Cancel button;
when the job ends, the page hears its result (or its error) and reruns on it."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from core.jobs.store import JobView, cancel, get_job
from ui.i18n import say, t


@st.fragment(run_every=1)
def follow(job_id: int, key: str, working: str, on_done: Callable[[JobView], None]) -> None:
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


def show_job_error(key: str) -> None:
    """The sentence of the page's job that failed or was cancelled, once."""
    if error := st.session_state.pop(key + "job_error", None):
        st.error(error)
