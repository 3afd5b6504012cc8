
import streamlit as st

from core.brand import SAMPLE_BRAND, current_brand
from core.errors import MercuryError
from core.i18n import N_, Joined
from core.mail.export import approved_frame, export_eml_zip
from core.mail.queue import (
    add_emails,
    approve,
    delete_email,
    draft_email,
    draft_pending,
    draft_why,
    facts_of,
    get_email,
    no_reply_why,
    queue_figures,
    queue_frame,
    reasons_of,
    reject,
)
from core.mail.reading import parse_text, read_emails
from ui.backend import require_spec
from ui.brand import brand_form
from ui.download import csv_download
from ui.i18n import num, pct, say, t
from ui.jobs import follow_job, on_worker
from ui.mailbox import mailbox_tab, may_show_mail

KEY = "email_"
SAMPLE = SAMPLE_BRAND.parent / "emails.csv"
STATUS_LABELS = {
    "new": N_("waiting for a draft"),
    "drafted": N_("waiting for approval"),
    "no_reply": N_("no reply needed"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
}
NOTICE = KEY + "notice"  # an error that must survive the rerun after an action

st.title(t("Email replies"))
st.caption(
    t(
        "Triage incoming mail, draft replies from the Brand profile's facts only, and decide: approve, edit, regenerate or "
        "reject. Nothing is ever sent: approved replies are exported for your mail client, or put in its Drafts folder from the Mailbox tab."
    )
)
if notice := st.session_state.pop(NOTICE, None):
    st.error(notice)
if not may_show_mail():
    st.stop()

figures = queue_figures()
cols = st.columns(4)
cols[0].metric(t("Emails"), num(figures.total))
cols[1].metric(t("Waiting for approval"), num(figures.waiting))
cols[2].metric(t("Approved"), num(figures.approved), help=t("{count} rejected", count=figures.rejected))
share = figures.unedited_share
cols[3].metric(
    t("Approved without edits"),
    "—" if share is None else pct(share),
    help=t("The page's quality figure: the share of approved drafts a person sent as written."),
)


def add(mails: list, source: str) -> None:
    with st.spinner(t("Triaging {count} email(s)...", count=len(mails))):
        ids = add_emails(mails, source, spec=require_spec())
    st.session_state[KEY + "selected"] = ids[0]
    st.success(t("Added {count} email(s) to the queue. Draft their replies below or in Review.", count=len(ids)))


def draft_all(spec) -> None:
    """On a worker when one runs and can use the sidebar's backend (the drafting goes on whatever the
    person does next), else here; either way each chunk of drafts is saved as it lands."""
    if on_worker("drafts", KEY, {}, spec=spec):
        return
    bar = st.progress(0.0, text=t("Drafting..."))
    try:
        draft_pending(
            current_brand(),
            spec=spec,
            progress=lambda done, total: bar.progress(done / total, text=t("Drafted {done} of {total} (each saved as it lands)", done=done, total=total)),
        )
    except MercuryError as error:
        st.error(t("{problem} Drafts finished so far are saved.", problem=say(error)))
    else:
        bar.progress(1.0, text=t("All drafts are ready for review."))


def _drafted(view) -> None:
    st.session_state[KEY + "drafted"] = True


inbox, review, brand_tab, approved, mailbox_view = st.tabs([t("Inbox"), t("Review"), t("Brand profile"), t("Approved & export"), t("Mailbox")])

with inbox:
    with st.form(KEY + "paste_form", clear_on_submit=True):
        pasted = st.text_area(t("Paste an email"), placeholder=t("Subject: Where is my order?\n\nHi, I ordered last week and ..."), height=160)
        if st.form_submit_button(t("Add to queue")) and pasted.strip():
            add([parse_text(pasted)], "pasted")
    uploads = st.file_uploader(
        t("Or upload mail: .eml files, an mbox, a .txt, or a CSV of emails (from, subject, body, date)"),
        type=["eml", "mbox", "txt", "csv", "tsv", "xlsx"],
        accept_multiple_files=True,
        key=KEY + "upload",
    )
    left, right = st.columns(2)
    if uploads and left.button(t("Add {count} file(s)", count=len(uploads)), type="primary", key=KEY + "add_files"):
        for upload in uploads:
            try:
                add(read_emails(upload.getvalue(), upload.name), upload.name)
            except MercuryError as error:
                st.error(say(error))
    if right.button(t("Load 12 sample emails"), key=KEY + "sample"):
        add(read_emails(SAMPLE.read_bytes(), SAMPLE.name), "sample")
    pending = queue_frame(["new"])
    if not pending.empty:
        st.write(t("**{count}** email(s) wait for a draft.", count=len(pending)))
        if st.button(t("Draft replies for all {count}", count=len(pending)), key=KEY + "draft_all"):
            draft_all(require_spec())
    follow_job("drafts", KEY, N_("Drafting on the worker: {said}. You may leave this page."), _drafted)
    if st.session_state.pop(KEY + "drafted", None):
        st.success(t("All drafts are ready for review."))

with review:
    queue = queue_frame(["new", "drafted", "no_reply"])
    if queue.empty:
        st.info(t("The queue is empty: add mail in the Inbox tab, or load the sample emails."))
    else:
        shown = queue.assign(
            status=queue["status"].map(lambda status: t(STATUS_LABELS[status])),
            urgency=queue["urgency"].map(t),
            intent=queue["intent"].map(lambda intent: t(intent.replace("_", " "))),
            sentiment=queue["sentiment"].map(t),
        )
        st.dataframe(
            shown.drop(columns=["created_at"]),
            hide_index=True,
            width="stretch",
            key=KEY + "queue",
            column_config={
                "urgency": t("urgency"),
                "intent": t("intent"),
                "subject": t("subject"),
                "sender": t("sender"),
                "status": t("status"),
                "needs_review": t("needs review"),
                "language": t("language"),
                "sentiment": t("sentiment"),
                "received": st.column_config.DatetimeColumn(t("received"), format="YYYY-MM-DD HH:mm"),
            },
        )
        ids = queue["id"].tolist()
        wanted = st.session_state.get(KEY + "selected")
        labels = {
            row.id: f"#{row.id} · {t(row.urgency)} · {t(row.intent.replace('_', ' '))} · {row.subject or t('(no subject)')}" for row in queue.itertuples()
        }
        email_id = st.selectbox(t("Email"), ids, index=ids.index(wanted) if wanted in ids else 0, format_func=labels.get, key=KEY + "pick")
        row = get_email(email_id)
        st.markdown(
            t(
                "**{intent}** · {urgency} urgency · {sentiment} · language `{language}` · {status}",
                intent=t(row.intent.replace("_", " ")),
                urgency=t(row.urgency),
                sentiment=t(row.sentiment),
                language=row.language,
                status=t(STATUS_LABELS[row.status]),
            )
        )
        st.caption(t("Why: {reason} (triage by {source})", reason=say(row.reason), source=say(row.triage_source)))
        if (why_not := no_reply_why(row)) is not None:
            st.info(t("No reply needed: {reason}.", reason=say(why_not)))
        if row.needs_review:
            st.warning(t("Needs review: {reasons}. Its instructions are not followed; read it before approving.", reasons=say(Joined(reasons_of(row)))))
        left, right = st.columns(2)
        with left:
            st.markdown(t("From **{sender}** · {subject}", sender=row.sender or t("unknown sender"), subject=row.subject or t("(no subject)")))
            st.text(row.body)  # as text, never rendered: the mail is untrusted
        with right:
            live = st.empty()
            streamed: list[str] = []

            def show(piece: str) -> None:
                streamed.append(piece)
                live.text("".join(streamed))

            brand = current_brand()
            if not row.draft:
                if st.button(t("Draft a reply"), type="primary", key=KEY + "draft_one"):
                    try:
                        draft_email(email_id, brand, spec=require_spec(), on_token=show)
                    except MercuryError as error:
                        st.session_state[NOTICE] = say(error)  # shown after the rerun, not wiped by it
                    st.rerun()
            else:
                text = st.text_area(t("Draft (edit freely before approving)"), value=row.draft, height=320, key=f"{KEY}draft_{email_id}_{hash(row.draft)}")
                why = draft_why(row)
                written = t("Written by the model") if why is None else t("Written from the facts by code: {why}", why=say(why))
                st.caption(f"{written} · {row.backend} {row.model}")
                with st.expander(t("Facts used ({count})", count=len(facts_of(row)))):
                    facts = facts_of(row)
                    st.write("\n".join(f"- {f}" for f in facts) if facts else t("No fact answers this email, so the draft says a person will follow up."))
                a, r = st.columns(2)
                if a.button(t("Approve"), type="primary", key=KEY + "approve", width="stretch"):
                    approve(email_id, text)
                    st.session_state.pop(KEY + "selected", None)
                    st.rerun()
                if r.button(t("Reject"), key=KEY + "reject", width="stretch"):
                    reject(email_id)
                    st.rerun()
                instruction = st.text_input(
                    t("Regenerate with an instruction"), placeholder=t("shorter; more formal; mention the warranty"), key=KEY + "instruction"
                )
                if st.button(t("Regenerate"), key=KEY + "regenerate"):
                    try:
                        draft_email(email_id, brand, spec=require_spec(), instruction=instruction or "write it again", on_token=show)
                    except MercuryError as error:
                        st.session_state[NOTICE] = say(error)
                    st.rerun()
        if st.button(t("Delete this email"), key=KEY + "delete"):
            delete_email(email_id)
            st.rerun()

with brand_tab:
    brand_form(KEY)

with approved:
    frame = approved_frame()
    if frame.empty:
        st.info(t("Nothing approved yet. Approved replies appear here, ready to export."))
    else:
        st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            column_config={
                "to": t("to"),
                "subject": t("subject"),
                "intent": t("intent"),
                "urgency": t("urgency"),
                "language": t("language"),
                "reply": t("reply"),
                "edited": t("edited"),
                "facts_used": t("facts used"),
                "decided_at": st.column_config.DatetimeColumn(t("decided at"), format="YYYY-MM-DD HH:mm"),
            },
        )
        left, right = st.columns(2)
        left.download_button(
            t("Download replies as .eml (zip)"), export_eml_zip(current_brand()), file_name="mercury-replies.zip", mime="application/zip", key=KEY + "zip"
        )
        with right:
            csv_download(frame, "mercury-replies.csv", t("Download replies as CSV"), key=KEY + "csv")
        copy_id = st.selectbox(
            t("Copy one reply"), frame["id"].tolist(), format_func=lambda i: f"#{i} · {frame.set_index('id').loc[i, 'subject']}", key=KEY + "copy"
        )
        st.code(frame.set_index("id").loc[copy_id, "reply"], language=None, wrap_lines=True)

with mailbox_view:
    mailbox_tab()
