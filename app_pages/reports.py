import json
from datetime import timedelta

import streamlit as st
import streamlit.components.v1 as components

from core.db import ReportDefinition
from core.insights import date_range
from core.reports import FORMATS, build_report, definitions, history, run_definition, save_definition, store_run, stored_file
from core.sentiment import list_datasets
from ui.backend import current_spec

KEY = "reports_"
MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

st.title("Reports")
st.caption(
    "An executive summary with charts for a dataset and period. Every number in the summary is checked against the "
    "computed figures; a summary that fails is rewritten once, then replaced by one written from the figures."
)

datasets = list_datasets()
if datasets.empty:
    st.info("No datasets yet: analyse reviews on the Sentiment page first.")
    st.page_link("app_pages/sentiment.py", label="Open Sentiment", icon=":material/reviews:")
    st.stop()

names = {row.id: f"{row.name} · {row.rows:,} reviews · #{row.id}" for row in datasets.itertuples()}
dataset_id = st.selectbox("Dataset", list(names), format_func=names.get, key=KEY + "dataset")
low, high = date_range(dataset_id)
cols = st.columns([2, 2, 2])
start = end = None
if low is not None:
    period = cols[0].date_input(
        "Period", value=(max(low.date(), high.date() - timedelta(days=29)), high.date()), min_value=low.date(), max_value=high.date(), key=KEY + "period"
    )
    if isinstance(period, tuple) and len(period) == 2:
        start, end = period
reviews_products = cols[1].text_input("Products (comma-separated, empty for all)", key=KEY + "products")
reviews_channels = cols[2].text_input("Channels (comma-separated, empty for all)", key=KEY + "channels")
products = [p.strip() for p in reviews_products.split(",") if p.strip()]
channels = [c.strip() for c in reviews_channels.split(",") if c.strip()]
include_usage = st.toggle("Include LLM usage and spend", value=True, key=KEY + "usage")
title = st.text_input("Title", value=f"Customer sentiment: {datasets.set_index('id').loc[dataset_id, 'name']}", key=KEY + "title")

left, right = st.columns(2)
if left.button("Build report", type="primary", key=KEY + "build"):
    with st.status("Building the report...", expanded=True) as status:
        st.write("Computing the figures and asking the model for a summary")
        try:
            report = build_report(dataset_id, start=start, end=end, products=products, channels=channels, spec=current_spec(), include_usage=include_usage, title=title)
        except ValueError as error:
            status.update(label=str(error), state="error")
            st.stop()
        st.write("Rendering PDF, DOCX, HTML and Excel")
        run = store_run(report, dataset_id=dataset_id)
        status.update(label="Report ready", state="complete")
    st.session_state[KEY + "run"] = run.id
    st.session_state[KEY + "notes"] = report.notes
if right.button("Save as a report definition", key=KEY + "save"):
    save_definition(
        ReportDefinition(
            name=title, dataset_id=dataset_id, period_days=((end - start).days + 1) if start and end else 30,
            products=json.dumps(products), channels=json.dumps(channels), include_usage=include_usage,
        )
    )
    st.success("Saved: re-run it below for the latest period in one click.")

runs = history()
current = runs[runs["id"] == st.session_state.get(KEY + "run")]
if not current.empty:
    run = current.iloc[0]
    files = json.loads(run["files"])
    for note in st.session_state.get(KEY + "notes", []):
        st.caption(note)
    st.subheader(run["title"])
    st.caption(f"{run['period_start']} to {run['period_end']} · summary written by the {'model' if run['summary_source'] == 'model' else 'template (from the figures)'}")
    buttons = st.columns(len(FORMATS))
    for column, fmt in zip(buttons, FORMATS):
        data = stored_file(files[fmt])
        if data is not None:
            column.download_button(f"Download {fmt.upper()}", data, file_name=f"mercury-report.{fmt}", mime=MIME[fmt], key=f"{KEY}download_{fmt}")
    preview = stored_file(files["html"])
    if preview:
        components.html(preview.decode("utf-8"), height=900, scrolling=True)

saved = definitions()
if saved:
    st.subheader("Saved reports")
    for definition in saved:
        cols = st.columns([4, 1])
        cols[0].write(f"**{definition.name}**: last {definition.period_days} days of dataset #{definition.dataset_id}")
        if cols[1].button("Run now", key=f"{KEY}rerun_{definition.id}"):
            with st.spinner("Building..."):
                run = run_definition(definition, spec=current_spec())
            st.session_state[KEY + "run"] = run.id
            st.session_state[KEY + "notes"] = []
            st.rerun()

if not runs.empty:
    st.subheader("History")
    for row in runs.head(20).itertuples():
        cols = st.columns([5, 1])
        cols[0].write(f"{row.created_at:%Y-%m-%d %H:%M} · {row.title} · {row.period_start} to {row.period_end}")
        if cols[1].button("Open", key=f"{KEY}open_{row.id}"):
            st.session_state[KEY + "run"] = row.id
            st.session_state[KEY + "notes"] = []
            st.rerun()
