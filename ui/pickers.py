"""Pickers several pages share: a stored dataset, its period, a sentiment classifier."""
from __future__ import annotations

import streamlit as st

from core.classifiers import classifier_choices
from core.db import Dataset
from core.sentiment.datasets import get_dataset, list_datasets
from core.sentiment.insights import date_range, default_period
from ui.i18n import labels, t


def pick_dataset(key: str, *, default: int | None = None) -> Dataset | None:
    """A select box over stored datasets, newest first, on `default` when that is new (a dataset the
    page just analysed); None when there is none."""
    datasets = list_datasets()
    if datasets.empty:
        return None
    labels = {row.id: t("{name} · {count} reviews · #{id}", name=row.name, count=row.rows, id=str(row.id)) for row in datasets.itertuples()}
    ids = list(labels)
    if default in ids and st.session_state.get(key + "pick_default") != default:  # a dataset just produced is shown, once, over an older pick
        st.session_state[key + "pick"] = st.session_state[key + "pick_default"] = default
    chosen = st.selectbox(t("Dataset"), ids, index=ids.index(default) if default in ids else 0, format_func=labels.get, key=key + "pick")
    return get_dataset(chosen)


def pick_period(dataset_id: int, key: str, container=st) -> tuple:
    """(start, end) dates, opening on the period core.sentiment.insights.default_period picks for the
    data (a recent window only when it holds most reviews); (None, None) for undated data."""
    low, high = date_range(dataset_id)
    if low is None:
        return None, None
    period = container.date_input(t("Period"), value=default_period(dataset_id), min_value=low.date(), max_value=high.date(), key=key + "period")
    return tuple(period) if isinstance(period, tuple) and len(period) == 2 else (None, None)


def pick_classifier(key: str, spec) -> str:
    """A classifier choice for core.models.sentiment.classifier_for."""
    choices = classifier_choices(spec)
    return st.selectbox(
        t("Classifier"), list(choices), format_func=labels(choices), key=key + "classifier",
        help=t("Fine-tune your own on the Model lab page; choose Local or OpenAI in the sidebar to classify with an LLM."),
    )
