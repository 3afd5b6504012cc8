"""The Email page's mailbox: who may see it, and its tab (connection, pull, push, the team's voice)."""
from __future__ import annotations

import streamlit as st

from core.brand import current_brand
from core.config import secrets_section
from core.errors import MercuryError
from core.i18n import N_
from core.jobs.store import JobView
from core.mail import mailbox
from ui.backend import require_spec
from ui.i18n import num, say, t
from ui.jobs import follow_job, on_worker

KEY = "mailbox_"


def may_show_mail() -> bool:
    """False, with one sentence (and Streamlit's login button when there is one), when the app serves
    the network and this visitor has not logged in: the team's mail is private."""
    try:
        configured = mailbox.mailbox_config() is not None
    except MercuryError:
        configured = True  # a malformed URL is still a mailbox someone meant to connect
    if not configured:
        return True
    why = mailbox.hidden_because(st.get_option("server.address"), logged_in=bool(getattr(st.user, "is_logged_in", False)))
    if why is None:
        return True
    st.warning(say(why))
    if secrets_section("auth"):
        st.button(t("Log in"), on_click=st.login, type="primary", key=KEY + "login")
    return False


def mailbox_tab() -> None:
    try:
        config = mailbox.mailbox_config()
    except MercuryError as error:
        st.error(say(error))
        return
    if config is None:
        st.info(
            t(
                "Connect the team's mailbox: set MERCURY_IMAP_URL (imap://user@host:port/INBOX, or imaps:// for TLS) and MERCURY_IMAP_PASSWORD "
                "in the environment or .streamlit/secrets.toml, then restart. Mercury reads new mail without marking it read and leaves its "
                "replies in your Drafts folder; nothing is ever sent."
            )
        )
        return
    figures = mailbox.mailbox_figures(config)
    st.markdown(t("Mailbox **{mailbox}**", mailbox=figures.mailbox))
    cols = st.columns(3)
    cols[0].metric(t("Read from it"), num(figures.pulled))
    cols[1].metric(t("Replies in Drafts"), num(figures.in_drafts))
    cols[2].metric(t("Last checked"), figures.last_pull.strftime("%Y-%m-%d %H:%M") if figures.last_pull else "—")
    left, middle, right = st.columns(3)
    if left.button(t("Test connection"), key=KEY + "test", width="stretch"):
        _run(lambda: st.success(say(mailbox.check(config))))
    if middle.button(t("Check mail"), type="primary", key=KEY + "pull", width="stretch"):
        check_mail(config, require_spec())
    follow_job("mailbox_pull", KEY, N_("Checking mail on the worker: {said}. You may leave this page."), _pulled)
    if result := st.session_state.pop(KEY + "pulled", None):
        st.success(
            t(
                "Read {read} new messages without marking them read: {needs_reply} need a reply and {drafted} are drafted. Review them in the "
                "Review tab.",
                read=result["read"],
                needs_reply=result["needs_reply"],
                drafted=result["drafted"],
            )
        )
    waiting = right.checkbox(t("Also drafts still waiting for approval"), key=KEY + "all", help=t("For teams that review in their mail client."))
    if right.button(t("Put replies in Drafts"), key=KEY + "push", width="stretch"):
        _run(
            lambda: st.success(
                t(
                    "Put {pushed} replies in {folder}, threaded under the mail they answer ({unchanged} were there already); nothing was sent.",
                    **mailbox.push(current_brand(), all_drafts=waiting, config=config).as_dict(),
                )
            )
        )
    st.divider()
    st.caption(t("Drafts sound like the team when they follow its own replies: Mercury reads the Sent folder and changes nothing in it."))
    if st.button(t("Learn our voice from Sent"), key=KEY + "voice"):
        _run(
            lambda: st.success(
                t("Kept {count} of the team's replies: see and edit them in the Brand profile tab.", count=len(mailbox.learn_voice(config=config)))
            )
        )


def check_mail(config, spec) -> None:
    """On a worker when one runs and can use the sidebar's backend (reading and drafting go on
    whatever the person does next), else here."""
    if on_worker("mailbox_pull", KEY, {}, spec=spec):
        return
    bar = st.progress(0.0, text=t("Reading new mail..."))

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=t("Read {done} of {total} messages", done=done, total=total))

    def pulled() -> None:
        st.session_state[KEY + "pulled"] = mailbox.pull(current_brand(), spec=spec, config=config, progress=progress).as_dict()

    _run(pulled)


def _pulled(view: JobView) -> None:
    st.session_state[KEY + "pulled"] = view.result


def _run(action) -> None:
    """An action on the mailbox; its failure is one sentence that stays on the page."""
    try:
        with st.spinner(t("Talking to the mail server...")):
            action()
    except MercuryError as error:
        st.error(say(error))
