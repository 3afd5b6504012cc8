import streamlit as st
import streamlit.components.v1 as components

from core.errors import MercuryError
from core.i18n import N_
from core.jobs.store import JobView
from core.reports.build import build_report
from core.reports.render import FORMATS
from core.reports.store import definitions, history, run_definition, save_definition, store_run, stored_file
from core.sentiment.datasets import distinct_values
from ui.backend import require_spec
from ui.i18n import current_language, say, t
from ui.jobs import follow_job, on_worker
from ui.pickers import pick_dataset, pick_period

KEY = "reports_"
MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _built(view: JobView) -> None:
    st.session_state[KEY + "run"] = view.result["run_id"]
    st.session_state[KEY + "notes"] = view.result["notes"]


st.title(t("Reports"))
st.caption(t(
    "An executive summary with charts for a dataset and period. Every number in the summary is checked against the "
    "computed figures; a summary that fails is replaced by one written from the figures, without asking the model again."
))

dataset = pick_dataset(KEY)
if dataset is None:
    st.info(t("No datasets yet: analyse reviews on the Sentiment page first."))
    st.page_link("app_pages/sentiment.py", label=t("Open Sentiment"), icon=":material/reviews:")
    st.stop()
dataset_id = dataset.id
cols = st.columns([2, 2, 2])
start, end = pick_period(dataset_id, KEY, cols[0])
products = cols[1].multiselect(t("Products (none picked: all)"), distinct_values(dataset_id, "product"), placeholder=t("Choose options"), key=KEY + "products")
channels = cols[2].multiselect(t("Channels (none picked: all)"), distinct_values(dataset_id, "channel"), placeholder=t("Choose options"), key=KEY + "channels")
include_usage = st.toggle(t("Include LLM usage and spend"), value=True, key=KEY + "usage")
title = st.text_input(t("Title"), value=t("Customer sentiment: {name}", name=dataset.name), key=KEY + "title")

left, right = st.columns(2)
if left.button(t("Build report"), type="primary", key=KEY + "build"):
    spec = require_spec()
    choices = {"products": products, "channels": channels, "include_usage": include_usage, "title": title, "language": current_language()}
    period = {"start": start and start.isoformat(), "end": end and end.isoformat()}
    if not on_worker("report", KEY, {"dataset_id": dataset_id, **choices, **period}, spec=spec):  # on the worker, it goes on whatever the person does next
        with st.status(t("Building the report..."), expanded=True) as status:
            st.write(t("Computing the figures and asking the model for a summary"))
            try:
                report = build_report(dataset_id, start=start, end=end, spec=spec, **choices)
            except MercuryError as error:
                status.update(label=say(error), state="error")
                st.stop()
            st.write(t("Rendering PDF, DOCX, HTML and Excel"))
            run = store_run(report, dataset_id=dataset_id)
            status.update(label=t("Report ready"), state="complete")
        st.session_state[KEY + "run"] = run.id
        st.session_state[KEY + "notes"] = report.notes
follow_job("report", KEY, N_("Building the report on the worker: {said}. You may leave this page."), _built)
if right.button(t("Save as a report definition"), key=KEY + "save"):
    save_definition(title, dataset_id, start=start, end=end, products=products, channels=channels, include_usage=include_usage)
    st.success(t("Saved: re-run it below for the latest period in one click."))

runs = history()
current = runs[runs["id"] == st.session_state.get(KEY + "run")]
if not current.empty:
    run = current.iloc[0]
    files = run["files"]
    for note in st.session_state.get(KEY + "notes", []):
        st.caption(say(note))
    st.subheader(run["title"])
    written_by = t("summary written by the model") if run["summary_source"] == "model" else t("summary written from the figures")
    st.caption(t("{start} to {end}", start=str(run["period_start"]), end=str(run["period_end"])) + f" · {written_by}")
    buttons = st.columns(len(FORMATS))
    for column, fmt in zip(buttons, FORMATS):
        data = stored_file(files[fmt])
        if data is not None:
            column.download_button(
                t("Download {format}", format=fmt.upper()), data, file_name=f"mercury-report.{fmt}", mime=MIME[fmt], key=f"{KEY}download_{fmt}"
            )
    preview = stored_file(files["html"])
    if preview:
        components.html(preview.decode("utf-8"), height=900, scrolling=True)

saved = definitions()
if saved:
    st.subheader(t("Saved reports"))
    for definition in saved:
        cols = st.columns([4, 1])
        cols[0].write(
            t("**{name}**: last {days} days of dataset #{dataset}", name=definition.name, days=definition.period_days, dataset=str(definition.dataset_id))
        )
        if cols[1].button(t("Run now"), key=f"{KEY}rerun_{definition.id}"):
            with st.spinner(t("Building...")):
                run = run_definition(definition, spec=require_spec(), language=current_language())
            st.session_state[KEY + "run"] = run.id
            st.session_state[KEY + "notes"] = []
            st.rerun()

if not runs.empty:
    st.subheader(t("History"))
    for row in runs.head(20).itertuples():
        cols = st.columns([5, 1])
        cols[0].write(f"{row.created_at:%Y-%m-%d %H:%M} · {row.title} · " + t("{start} to {end}", start=str(row.period_start), end=str(row.period_end)))
        if cols[1].button(t("Open"), key=f"{KEY}open_{row.id}"):
            st.session_state[KEY + "run"] = row.id
            st.session_state[KEY + "notes"] = []
            st.rerun()
