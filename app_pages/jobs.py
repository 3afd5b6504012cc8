import pandas as pd
import streamlit as st

from core.jobs import store
from ui.i18n import say, t

KEY = "jobs_"
KIND_LABELS = {
    "sentiment": t("Analyse a file"), "score": t("Score reviews"), "mailbox_pull": t("Check mail"), "mailbox_push": t("Put replies in Drafts"),
    "drafts": t("Draft replies"), "report": t("Build report"), "evaluate": t("Evaluate"), "calibrate": t("Fit the classifier to my rated reviews"),
    "finetune": t("Fine-tune the sentiment model"), "finetune_lm": t("Fine-tune the language model"),
}
STATE_LABELS = {"queued": t("queued"), "running": t("running"), "done": t("done"), "failed": t("failed"), "cancelled": t("cancelled")}

st.title(t("Jobs"))
st.caption(
    t(
        "Long work runs as jobs on a worker beside the app, so it goes on while you visit other pages or close the tab. "
        "From the command line: python -m core jobs, and --queue on a long command."
    )
)


@st.fragment(run_every=2)
def recent() -> None:
    views = [store.JobView.of(job) for job in store.recent_jobs(50)]
    if not views:
        st.info(t("No jobs yet: they appear here when a long action is submitted, e.g. python -m core sentiment FILE --queue."))
        return
    frame = pd.DataFrame(
        [
            {
                "id": v.id,
                "kind": KIND_LABELS.get(v.kind, v.kind),
                "state": STATE_LABELS[v.state],
                "progress": v.done / v.total if v.total else (1.0 if v.state == "done" else 0.0),
                "said": say(v.error if v.state in ("failed", "cancelled") else v.progress),
                "requested_by": v.requested_by,
                "seconds": None if v.seconds is None else round(v.seconds),
            }
            for v in views
        ]
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "kind": t("job"),
            "state": t("state"),
            "progress": st.column_config.ProgressColumn(t("progress"), min_value=0.0, max_value=1.0),
            "said": t("what it says"),
            "requested_by": t("asked by"),
            "seconds": t("seconds"),
        },
    )
    active = [v.id for v in views if v.state in ("queued", "running")]
    if active:
        left, right = st.columns([3, 1])
        chosen = left.selectbox(t("Job"), active, format_func=lambda i: f"#{i}", key=KEY + "pick")
        if right.button(t("Cancel"), key=KEY + "cancel", width="stretch"):
            store.cancel(chosen)
            st.success(t("Job {job} stops at its next chunk; what is done is kept.", job=chosen))


recent()
