import streamlit as st

from core.errors import MercuryError
from core.llm import stream
from core.stats import team_figures
from ui.backend import current_spec
from ui.i18n import num, say, t

st.title("Mercury")
st.markdown(t(
    "**The LLM desk for marketing teams.** Mercury runs on one shared core that can use a small model "
    "embedded in the app (no key, no network), a model on your own GPU, or a hosted API such as OpenAI "
    "or a vLLM server your team runs."
))

spec = current_spec()
st.info(t("Active backend: **{backend}**", backend=spec.label) if spec else t("No backend is ready yet: finish the settings in the sidebar."))

st.subheader(t("The team's figures"))
figures_slot = st.container()

st.subheader(t("Try the model"))
with st.form("home_try"):
    prompt = st.text_area(t("Prompt"), value=t("Write one friendly sentence thanking a customer."), key="home_prompt")
    submitted = st.form_submit_button(t("Generate"))
if submitted:
    if spec is None:
        st.error(t("Choose a backend in the sidebar first."))
    else:
        try:
            st.write_stream(stream([{"role": "user", "content": prompt}], spec=spec, page="home", max_tokens=120))
        except MercuryError as error:
            st.error(say(error))

# Drawn after the prompt ran, so a call just made counts in this month's figures at once.
with figures_slot:
    figures = team_figures()
    cols = st.columns(3)
    cols[0].metric(t("Reviews analysed"), num(figures.reviews_analysed), help=t("in {count} datasets", count=figures.datasets))
    cols[1].metric(t("Drafts waiting for approval"), num(figures.drafts_waiting))
    cols[2].metric(t("Content pieces saved"), num(figures.content_saved))
    cols = st.columns(3)
    cols[0].metric(t("LLM calls this month"), num(figures.llm_calls_month), help=t("{count} tokens", count=figures.tokens_month))
    cols[1].metric(t("API spend this month"), f"${num(figures.spend_month_usd, 2)}")
    cols[2].metric(t("Local compute this month"), t("{minutes} min", minutes=round(figures.compute_s_month / 60, 1)))
    if figures.reviews_analysed == 0:
        st.page_link("app_pages/sentiment.py", label=t("No reviews yet: open Sentiment and try the sample dataset"), icon=":material/reviews:")
    if figures.drafts_waiting == 0:
        st.page_link("app_pages/email.py", label=t("No drafts waiting: open Email replies to triage mail and draft replies"), icon=":material/mail:")
    if figures.content_saved == 0:
        st.page_link("app_pages/content.py", label=t("No content saved yet: open the Content studio to write on-brand posts"), icon=":material/edit_note:")
    if figures.llm_calls_month == 0:
        st.caption(t(
            "No model calls yet this month. Try a prompt below, or press *Test connection* in the sidebar: "
            "every call shows up here and on the Usage page."
        ))
