"""The Sentiment page's scoring: on a worker as a job when one runs (it goes on whatever the person
does next, and the page follows it), else in the page."""
from __future__ import annotations

import streamlit as st

from core.classifiers import LLM_CHOICE, classifier_for
from core.errors import MercuryError
from core.i18n import N_
from core.jobs.store import JobView
from core.sentiment.datasets import score_dataset
from ui.backend import current_spec
from ui.i18n import say, t
from ui.jobs import follow_job, on_worker

KEY = "sentiment_"


def run_scoring(dataset_id: int, classifier) -> None:
    bar = st.progress(0.0, text=t("Scoring reviews..."))
    try:
        score_dataset(
            dataset_id, classifier, lambda done, total: bar.progress(done / max(total, 1), text=t("Scored {done} of {total} reviews", done=done, total=total))
        )
    except MercuryError as error:  # an LLM backend failing mid-way: what was scored is already saved
        st.error(t("Scoring stopped: {problem} What was scored so far is saved; press Resume to go on.", problem=say(error)))
        st.stop()
    bar.empty()


def start_scoring(dataset_id: int, choice: str) -> None:
    """On a worker when one runs, so the scoring goes on whatever the person does next (an LLM
    classifier, whose key may live in this browser session only, scores here); else here."""
    if choice != LLM_CHOICE and on_worker("score", KEY, {"dataset_id": dataset_id, "choice": choice}):
        return
    run_scoring(dataset_id, classifier_for(choice, current_spec()))


def follow_scoring() -> int | None:
    """The scoring job under way, this visitor's or anyone's (after a reload, too): its progress, and
    when it ends the page opens on its dataset. Its id, or None."""
    return follow_job("score", KEY, N_("Analysing on the worker: {said}. You may leave this page."), _open_dataset)


def _open_dataset(view: JobView) -> None:
    st.session_state[KEY + "dataset"] = view.result["dataset_id"]
