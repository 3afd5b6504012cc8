import plotly.express as px
import streamlit as st

from core.usage import calls_frame, totals
from ui.download import csv_download

st.title("Usage")
st.caption(
    "Every model call Mercury makes: hosted calls are priced from the maintained genai-prices tables; "
    "embedded and local calls cost no API money, so they show the compute seconds they used."
)

calls = calls_frame()
if calls.empty:
    st.info("No model calls yet. Generate something on any page and it appears here.")
    st.stop()

cols = st.columns(4)
cols[0].metric("Calls", f"{len(calls):,}")
cols[1].metric("Tokens in / out", f"{calls['tokens_in'].sum():,} / {calls['tokens_out'].sum():,}")
cols[2].metric("API spend", f"${calls['cost_usd'].sum():,.4f}")
cols[3].metric("Compute", f"{calls['compute_s'].sum():,.1f} s")

group = st.radio("Totals per", ["day", "page"], horizontal=True, key="usage_group")
table = totals(calls, group)
measure = st.selectbox(
    "Chart", ["calls", "tokens_out", "cost_usd", "compute_s"], key="usage_measure",
    format_func={"calls": "Calls", "tokens_out": "Tokens out", "cost_usd": "API spend ($)", "compute_s": "Compute seconds"}.get,
)
st.plotly_chart(px.bar(table, x=group, y=measure), width="stretch")
st.dataframe(table, hide_index=True, width="stretch")
csv_download(table, f"mercury-usage-per-{group}.csv", "Download totals (CSV)", key="usage_totals_csv")

st.subheader("Every call")
st.dataframe(calls, hide_index=True, width="stretch")
csv_download(calls, "mercury-llm-calls.csv", "Download calls (CSV)", key="usage_calls_csv")
