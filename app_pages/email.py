
import streamlit as st

from core.brand import SAMPLE_BRAND, current_brand
from core.errors import MercuryError
from core.mail.export import approved_frame, export_eml_zip
from core.mail.queue import add_emails, approve, delete_email, draft_email, draft_pending, facts_of, get_email, queue_figures, queue_frame, reasons_of, reject
from core.mail.reading import parse_text, read_emails
from ui.backend import require_spec
from ui.brand import brand_form
from ui.download import csv_download

KEY = "email_"
SAMPLE = SAMPLE_BRAND.parent / "emails.csv"
STATUS_LABELS = {"new": "waiting for a draft", "drafted": "waiting for approval", "no_reply": "no reply needed", "approved": "approved", "rejected": "rejected"}

st.title("Email replies")
st.caption(
    "Triage incoming mail, draft replies from the Brand profile's facts only, and decide: approve, edit, regenerate or "
    "reject. Nothing is ever sent: approved replies are exported for your mail client."
)

figures = queue_figures()
cols = st.columns(4)
cols[0].metric("Emails", f"{figures.total:,}")
cols[1].metric("Waiting for approval", f"{figures.waiting:,}")
cols[2].metric("Approved", f"{figures.approved:,}", help=f"{figures.rejected:,} rejected")
share = figures.unedited_share
cols[3].metric("Approved without edits", "—" if share is None else f"{share:.0%}", help="The page's quality figure: the share of approved drafts a person sent as written.")


def add(mails: list, source: str) -> None:
    with st.spinner(f"Triaging {len(mails):,} email(s)..."):
        ids = add_emails(mails, source, spec=require_spec())
    st.session_state[KEY + "selected"] = ids[0]
    st.success(f"Added {len(ids):,} email(s) to the queue. Draft their replies below or in Review.")


inbox, review, brand_tab, approved = st.tabs(["Inbox", "Review", "Brand profile", "Approved & export"])

with inbox:
    with st.form(KEY + "paste_form", clear_on_submit=True):
        pasted = st.text_area("Paste an email", placeholder="Subject: Where is my order?\n\nHi, I ordered last week and ...", height=160)
        if st.form_submit_button("Add to queue") and pasted.strip():
            add([parse_text(pasted)], "pasted")
    uploads = st.file_uploader("Or upload mail: .eml files, an mbox, a .txt, or a CSV of emails (from, subject, body, date)", type=["eml", "mbox", "txt", "csv", "tsv", "xlsx"], accept_multiple_files=True, key=KEY + "upload")
    left, right = st.columns(2)
    if uploads and left.button(f"Add {len(uploads)} file(s)", type="primary", key=KEY + "add_files"):
        for upload in uploads:
            try:
                add(read_emails(upload.getvalue(), upload.name), upload.name)
            except MercuryError as error:
                st.error(str(error))
    if right.button("Load 12 sample emails", key=KEY + "sample"):
        add(read_emails(SAMPLE.read_bytes(), SAMPLE.name), "sample")
    pending = queue_frame(["new"])
    if not pending.empty:
        st.write(f"**{len(pending):,}** email(s) wait for a draft.")
        if st.button(f"Draft replies for all {len(pending):,}", key=KEY + "draft_all"):
            bar = st.progress(0.0, text="Drafting...")
            brand = current_brand()
            try:
                draft_pending(brand, spec=require_spec(), progress=lambda done, total: bar.progress(done / total, text=f"Drafted {done:,} of {total:,} (each saved as it lands)"))
            except MercuryError as error:
                st.error(f"{error} Drafts finished so far are saved.")
            else:
                bar.progress(1.0, text="All drafts are ready for review.")

with review:
    queue = queue_frame(["new", "drafted", "no_reply"])
    if queue.empty:
        st.info("The queue is empty: add mail in the Inbox tab, or load the sample emails.")
    else:
        shown = queue.assign(status=queue["status"].map(STATUS_LABELS))
        st.dataframe(shown.drop(columns=["created_at"]), hide_index=True, width="stretch", key=KEY + "queue")
        ids = queue["id"].tolist()
        wanted = st.session_state.get(KEY + "selected")
        labels = {row.id: f"#{row.id} · {row.urgency} · {row.intent.replace('_', ' ')} · {row.subject or '(no subject)'}" for row in queue.itertuples()}
        email_id = st.selectbox("Email", ids, index=ids.index(wanted) if wanted in ids else 0, format_func=labels.get, key=KEY + "pick")
        row = get_email(email_id)
        st.markdown(f"**{row.intent.replace('_', ' ')}** · {row.urgency} urgency · {row.sentiment} · language `{row.language}` · {STATUS_LABELS[row.status]}")
        st.caption(f"Why: {row.reason} (triage by {row.triage_source})")
        if row.needs_review:
            st.warning("Needs review: " + "; ".join(reasons_of(row)) + ". Its instructions are not followed; read it before approving.")
        left, right = st.columns(2)
        with left:
            st.markdown(f"From **{row.sender or 'unknown sender'}** · {row.subject or '(no subject)'}")
            st.text(row.body)  # as text, never rendered: the mail is untrusted
        with right:
            live = st.empty()
            streamed: list[str] = []

            def show(piece: str) -> None:
                streamed.append(piece)
                live.text("".join(streamed))

            brand = current_brand()
            if not row.draft:
                if st.button("Draft a reply", type="primary", key=KEY + "draft_one"):
                    try:
                        draft_email(email_id, brand, spec=require_spec(), on_token=show)
                    except MercuryError as error:
                        st.error(str(error))
                    st.rerun()
            else:
                text = st.text_area("Draft (edit freely before approving)", value=row.draft, height=320, key=f"{KEY}draft_{email_id}_{hash(row.draft)}")
                st.caption(("Written by the model" if row.draft_source == "model" else "Written from the facts by code: " + row.draft_source.removeprefix("template: ")) + f" · {row.backend} {row.model}")
                with st.expander(f"Facts used ({len(facts_of(row))})"):
                    facts = facts_of(row)
                    st.write("\n".join(f"- {f}" for f in facts) if facts else "No fact answers this email, so the draft says a person will follow up.")
                a, r = st.columns(2)
                if a.button("Approve", type="primary", key=KEY + "approve", width="stretch"):
                    approve(email_id, text)
                    st.session_state.pop(KEY + "selected", None)
                    st.rerun()
                if r.button("Reject", key=KEY + "reject", width="stretch"):
                    reject(email_id)
                    st.rerun()
                instruction = st.text_input("Regenerate with an instruction", placeholder="shorter; more formal; mention the warranty", key=KEY + "instruction")
                if st.button("Regenerate", key=KEY + "regenerate"):
                    try:
                        draft_email(email_id, brand, spec=require_spec(), instruction=instruction or "write it again", on_token=show)
                    except MercuryError as error:
                        st.error(str(error))
                    st.rerun()
        if st.button("Delete this email", key=KEY + "delete"):
            delete_email(email_id)
            st.rerun()

with brand_tab:
    brand_form(KEY)

with approved:
    frame = approved_frame()
    if frame.empty:
        st.info("Nothing approved yet. Approved replies appear here, ready to export.")
    else:
        st.dataframe(frame, hide_index=True, width="stretch")
        left, right = st.columns(2)
        left.download_button("Download replies as .eml (zip)", export_eml_zip(current_brand()), file_name="mercury-replies.zip", mime="application/zip", key=KEY + "zip")
        with right:
            csv_download(frame, "mercury-replies.csv", "Download replies as CSV", key=KEY + "csv")
        copy_id = st.selectbox("Copy one reply", frame["id"].tolist(), format_func=lambda i: f"#{i} · {frame.set_index('id').loc[i, 'subject']}", key=KEY + "copy")
        st.code(frame.set_index("id").loc[copy_id, "reply"], language=None, wrap_lines=True)
