"""The sidebar every page shares: which model backend answers, and whether it is reachable."""
from __future__ import annotations

import streamlit as st

from core.config import setting
from core.llm import BackendSpec, LLMError, backend_types, check_connection, resolve_spec
from core.llm.base import Option
from ui.i18n import labels, language_picker, say, t

SPEC_KEY = "backend_spec"
ERROR_KEY = "backend_error"


def render_sidebar() -> None:
    """Draw the backend picker (every registered backend, with its options) and store the resolved
    spec, or one sentence why there is none."""
    with st.sidebar:
        language_picker()
        st.subheader(t("Model backend"))
        default_kind = setting("MERCURY_BACKEND")
        types = {backend.name: backend for backend in backend_types()}
        kinds = list(types)
        kind = st.radio(
            t("Backend"),
            kinds,
            index=kinds.index(default_kind) if default_kind in kinds else 0,
            format_func=labels({name: backend.description for name, backend in types.items()}),
            key="backend_kind",
        )
        options = {option.name: _option_input(kind, option) for option in types[kind].options}
        try:
            st.session_state[SPEC_KEY] = resolve_spec(kind, **{k: v for k, v in options.items() if v})
            st.session_state[ERROR_KEY] = ""
        except LLMError as error:
            st.session_state[SPEC_KEY] = None
            st.session_state[ERROR_KEY] = say(error)
            st.warning(say(error))
        if st.button(t("Test connection"), key="backend_test", width="stretch"):
            spec = st.session_state[SPEC_KEY]
            if spec is None:
                st.error(st.session_state[ERROR_KEY])
            else:
                with st.spinner(t("Asking the model for a word...")):
                    ok, sentence = check_connection(spec)
                (st.success if ok else st.error)(say(sentence))


def _option_input(kind: str, option: Option) -> str:
    configured = setting(option.setting) if option.setting else ""
    if option.secret:  # typed only: the configured value is never shown back
        placeholder = t("set in the environment") if configured else option.placeholder
        return st.text_input(t(option.label), type="password", key=f"backend_{kind}_{option.name}", placeholder=placeholder, help=_help(option))
    return st.text_input(t(option.label), value=configured, key=f"backend_{kind}_{option.name}", placeholder=option.placeholder, help=_help(option))


def _help(option: Option) -> str | None:
    return t(option.help) if option.help else None


def current_spec() -> BackendSpec | None:
    return st.session_state.get(SPEC_KEY)


def require_spec() -> BackendSpec:
    """The sidebar's backend for an action that calls a model; when the sidebar's settings are not
    usable the page says why and stops, rather than quietly using another backend."""
    spec = current_spec()
    if spec is None:
        st.error(
            t("{problem} Fix the backend in the sidebar: nothing was sent to any model.", problem=st.session_state.get(ERROR_KEY) or t("No backend is chosen."))
        )
        st.stop()
    return spec
