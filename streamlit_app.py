"""Mercury: routes only. Every page lives in app_pages/ and does its work through core/.

The folder is not called `pages/` on purpose: Streamlit treats a `pages/` folder beside the main
script as a legacy multipage app, which runs page files alone (no shared sidebar) whenever a
session starts in that mode. With st.navigation and another folder name there is one router.
"""
import streamlit as st

from core import usage
from ui.backend import render_sidebar
from ui.i18n import t

usage.install()  # every model call a page makes is stored as a usage row
st.set_page_config(page_title=t("Mercury · LLM desk for marketing"), page_icon="☿", layout="wide")

pages = [
    st.Page("app_pages/home.py", title=t("Home"), icon=":material/home:", default=True),
    st.Page("app_pages/email.py", title=t("Email replies"), icon=":material/mail:"),
    st.Page("app_pages/content.py", title=t("Content studio"), icon=":material/edit_note:"),
    st.Page("app_pages/sentiment.py", title=t("Sentiment"), icon=":material/reviews:"),
    st.Page("app_pages/reports.py", title=t("Reports"), icon=":material/summarize:"),
    st.Page("app_pages/lab.py", title=t("Model lab"), icon=":material/science:"),
    st.Page("app_pages/capacity.py", title=t("Capacity planner"), icon=":material/memory:"),
    st.Page("app_pages/jobs.py", title=t("Jobs"), icon=":material/pending_actions:"),
    st.Page("app_pages/usage.py", title=t("Usage"), icon=":material/monitoring:"),
]
navigation = st.navigation(pages)
render_sidebar()
navigation.run()
