"""Mercury: routes only. Every page lives in pages/ and does its work through core/."""
import streamlit as st

from ui.backend import render_sidebar

st.set_page_config(page_title="Mercury · LLM desk for marketing", page_icon="☿", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/sentiment.py", title="Sentiment", icon=":material/reviews:"),
    st.Page("pages/usage.py", title="Usage", icon=":material/monitoring:"),
]
render_sidebar()
navigation = st.navigation(pages)
navigation.run()
