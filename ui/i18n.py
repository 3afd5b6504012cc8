"""The interface language of this browser session, and the helpers every page writes its text through.

The language is the sidebar picker's, remembered for the session; before it is touched, the
browser's (st.context.locale) when it is one Mercury speaks, else MERCURY_LANGUAGE, else English."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from core.i18n import LANGUAGES, N_, Msg, Signed, default_language, format_number, format_percent, language_code, render

LANGUAGE_KEY = "ui_language"


def current_language() -> str:
    chosen = st.session_state.get(LANGUAGE_KEY)
    if chosen in LANGUAGES:
        return chosen
    return language_code(getattr(st.context, "locale", None)) or default_language()


def t(text: str, **values) -> str:
    """The text in this session's language, its {placeholders} filled (numbers in the locale's format)."""
    return Msg(text, **values).render(current_language()) if values else render(text, current_language())


def say(message) -> str:
    """A sentence core handed out (a Msg, an error, or plain text) in this session's language."""
    return render(message, current_language())


def num(value, digits: int | None = None) -> str:
    return format_number(value, current_language(), digits)


def pct(share: float, digits: int = 0) -> str:
    return format_percent(share, current_language(), digits)


def language_picker() -> None:
    """The sidebar's language picker; a change reruns the page in that language."""
    codes = list(LANGUAGES)
    if LANGUAGE_KEY not in st.session_state:
        st.session_state[LANGUAGE_KEY] = current_language()
    st.selectbox("🌐", codes, format_func=LANGUAGES.__getitem__, key=LANGUAGE_KEY, label_visibility="collapsed")


# Values core hands the pages as data (an intent, an urgency, a period, a kind of memory), marked here
# for the catalogs and translated where they are shown with t().
VOCABULARY = (
    N_("pricing"), N_("order status"), N_("refund return"), N_("complaint"), N_("technical support"), N_("appointment"), N_("partnership"), N_("spam other"),
    N_("high"), N_("normal"), N_("low"), N_("positive"), N_("neutral"), N_("negative"),
    N_("day"), N_("week"), N_("month"), N_("quarter"), N_("product"), N_("channel"), N_("period"), N_("term"), N_("theme"), N_("language name"),
    N_("prefill"), N_("decode"), N_("backward"), N_("optimizer step"),
    N_("weights"), N_("kv_cache"), N_("activations"), N_("logits"), N_("gradients"), N_("optimizer_states"),
    N_("negative share above"), N_("negative share up"),
    N_("scores"), N_("drafts"), N_("text"),
    N_("price"), N_("delivery"), N_("quality"), N_("support"), N_("usability"), N_("battery"), N_("sound"), N_("cleanliness"), N_("food"),
    N_("Lead with the main benefit."), N_("Open with a question the reader is asking."), N_("Lead with the problem it solves."),
    N_("Open with a concrete detail or number from the brief."), N_("Make it playful and light."), N_("Make it short and direct."),
)


def labels(options: dict) -> Callable[[object], str]:
    """A widget's format_func naming each option in this session's language, translated now: a
    format_func that looked the language up later would see no session (AppTest calls it so)."""
    named = {key: say(text) for key, text in options.items()}
    return named.__getitem__


def signed(value: float, digits: int = 1) -> str:
    """A change with its sign, in the locale's digits: +1,5 or -0,3."""
    return Signed(round(value, digits)).render(current_language())
