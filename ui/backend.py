"""The sidebar every page shares: which model backend answers, and whether it is reachable."""
from __future__ import annotations

import streamlit as st

from core.config import setting
from core.i18n import N_
from core.llm import BackendSpec, LLMError, check_connection, resolve_spec
from ui.i18n import labels, language_picker, say, t

KIND_LABELS = {"embedded": N_("Embedded (no key, offline)"), "local": N_("Local model (transformers)"), "openai": N_("OpenAI or compatible")}
SPEC_KEY = "backend_spec"
ERROR_KEY = "backend_error"


def render_sidebar() -> None:
    """Draw the backend picker and store the resolved spec (or one sentence why there is none)."""
    with st.sidebar:
        language_picker()
        st.subheader(t("Model backend"))
        default_kind = setting("MERCURY_BACKEND")
        kinds = list(KIND_LABELS)
        kind = st.radio(
            t("Backend"),
            kinds,
            index=kinds.index(default_kind) if default_kind in kinds else 0,
            format_func=labels(KIND_LABELS),
            key="backend_kind",
        )
        options: dict = {}
        if kind == "local":
            options["model"] = st.text_input(
                t("Model id or local folder"),
                value=setting("MERCURY_LOCAL_MODEL"),
                key="backend_local_model",
                help=t("Any transformers causal LM; runs on the GPU in bf16 when one is present."),
            )
        elif kind == "openai":
            has_configured_key = bool(setting("OPENAI_API_KEY"))
            options["api_key"] = st.text_input(
                t("API key"),
                type="password",
                key="backend_api_key",
                placeholder=t("set in the environment") if has_configured_key else "sk-...",
                help=t("Kept for this browser session only; never saved. When this is empty, the server's own "
                       "OPENAI_API_KEY is used, and only for the base URL the server was configured with."),
            )
            options["base_url"] = st.text_input(
                t("Base URL"),
                value=setting("OPENAI_BASE_URL"),
                key="backend_base_url",
                placeholder="https://api.openai.com/v1",
                help=t("Leave empty for OpenAI; for vLLM, Ollama or LM Studio give their /v1 address."),
            )
            options["model"] = st.text_input(t("Model"), value=setting("OPENAI_MODEL"), key="backend_openai_model")
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
