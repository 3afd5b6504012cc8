import streamlit as st

from core.errors import MercuryError
from core.llm import stream
from core.stats import team_figures
from ui.backend import current_spec

st.title("Mercury")
st.markdown(
    "**The LLM desk for marketing teams.** Mercury runs on one shared core that can use a small model "
    "embedded in the app (no key, no network), a model on your own GPU, or a hosted API such as OpenAI "
    "or a vLLM server your team runs."
)

spec = current_spec()
st.info(f"Active backend: **{spec.label}**" if spec else "No backend is ready yet: finish the settings in the sidebar.")

st.subheader("The team's figures")
figures = team_figures()
cols = st.columns(3)
cols[0].metric("Reviews analysed", f"{figures.reviews_analysed:,}", help=f"in {figures.datasets:,} datasets")
cols[1].metric("Drafts waiting for approval", f"{figures.drafts_waiting:,}")
cols[2].metric("Content pieces saved", f"{figures.content_saved:,}")
cols = st.columns(3)
cols[0].metric("LLM calls this month", f"{figures.llm_calls_month:,}", help=f"{figures.tokens_month:,} tokens")
cols[1].metric("API spend this month", f"${figures.spend_month_usd:,.2f}")
cols[2].metric("Local compute this month", f"{figures.compute_s_month / 60:,.1f} min")
if figures.reviews_analysed == 0:
    st.page_link("app_pages/sentiment.py", label="No reviews yet: open Sentiment and try the sample dataset", icon=":material/reviews:")
if figures.drafts_waiting == 0:
    st.page_link("app_pages/email.py", label="No drafts waiting: open Email replies to triage mail and draft replies", icon=":material/mail:")
if figures.content_saved == 0:
    st.page_link("app_pages/content.py", label="No content saved yet: open the Content studio to write on-brand posts", icon=":material/edit_note:")
if figures.llm_calls_month == 0:
    st.caption(
        "No model calls yet this month. Try a prompt below, or press *Test connection* in the sidebar: "
        "every call shows up here and on the Usage page."
    )

st.subheader("Try the model")
with st.form("home_try"):
    prompt = st.text_area("Prompt", value="Write one friendly sentence thanking a customer.", key="home_prompt")
    submitted = st.form_submit_button("Generate")
if submitted:
    if spec is None:
        st.error("Choose a backend in the sidebar first.")
    else:
        try:
            st.write_stream(stream([{"role": "user", "content": prompt}], spec=spec, page="home", max_tokens=120))
        except MercuryError as error:
            st.error(str(error))
