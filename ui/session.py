"""Who is at this browser, until there is a login."""
from __future__ import annotations

import uuid

import streamlit as st


def session_name() -> str:
    """This browser session's name, for "asked by" on a job."""
    return st.session_state.setdefault("session_name", f"browser {uuid.uuid4().hex[:6]}")
