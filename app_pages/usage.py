import plotly.express as px
import streamlit as st

from core.usage import calls_frame, totals
from ui.download import csv_download
from ui.i18n import num, t

st.title(t("Usage"))
st.caption(t(
    "Every model call Mercury makes: hosted calls are priced from the maintained genai-prices tables; "
    "embedded and local calls cost no API money, so they show the compute seconds they used."
))

calls = calls_frame()
if calls.empty:
    st.info(t("No model calls yet. Generate something on any page and it appears here."))
    st.stop()

cols = st.columns(4)
cols[0].metric(t("Calls"), num(len(calls)))
cols[1].metric(t("Tokens in / out"), f"{num(int(calls['tokens_in'].sum()))} / {num(int(calls['tokens_out'].sum()))}")
cols[2].metric(t("API spend"), f"${num(float(calls['cost_usd'].sum()), 4)}")
cols[3].metric(t("Compute"), t("{seconds} s", seconds=round(float(calls["compute_s"].sum()), 1)))

GROUPS = {"day": t("day"), "page": t("page")}
group = st.radio(t("Totals per"), list(GROUPS), format_func=GROUPS.get, horizontal=True, key="usage_group")
table = totals(calls, group)
MEASURES = {"calls": t("Calls"), "tokens_out": t("Tokens out"), "cost_usd": t("API spend ($)"), "compute_s": t("Compute seconds")}
measure = st.selectbox(t("Chart"), list(MEASURES), key="usage_measure", format_func=MEASURES.get)
chart = px.bar(table, x=group, y=measure, labels={group: GROUPS[group], measure: MEASURES[measure]})
if group == "day":  # one tick a day, dated, not a timestamp at 23:59:59.9996
    chart.update_xaxes(type="date", tickformat="%Y-%m-%d")
st.plotly_chart(chart, width="stretch")
st.dataframe(table, hide_index=True, width="stretch")
csv_download(table, f"mercury-usage-per-{group}.csv", t("Download totals (CSV)"), key="usage_totals_csv")

st.subheader(t("Every call"))
st.dataframe(calls, hide_index=True, width="stretch")
csv_download(calls, "mercury-llm-calls.csv", t("Download calls (CSV)"), key="usage_calls_csv")
