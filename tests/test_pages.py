"""Every page under AppTest, and the shared backend sidebar."""
import ast
import re

import pytest
from streamlit.testing.v1 import AppTest

from core.usage import record_call
from tests.conftest import ROOT

# Every page the router knows, with the title it must show.
PAGES = {
    "app_pages/home.py": "Mercury",
    "app_pages/email.py": "Email replies",
    "app_pages/content.py": "Content studio",
    "app_pages/sentiment.py": "Sentiment",
    "app_pages/reports.py": "Reports",
    "app_pages/lab.py": "Model lab",
    "app_pages/capacity.py": "Capacity planner",
    "app_pages/jobs.py": "Jobs",
    "app_pages/usage.py": "Usage",
}


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()


@pytest.mark.parametrize("page, title", PAGES.items())
def test_every_page_renders_its_own_title_without_exception(page, title):
    at = app()
    at.switch_page(page).run()
    assert not at.exception
    assert at.title[0].value == title


def test_the_router_lists_every_page_file_and_no_legacy_pages_folder_exists():
    routed = set(re.findall(r'st\.Page\("(app_pages/\w+\.py)"', (ROOT / "streamlit_app.py").read_text()))
    assert routed == set(PAGES) == {f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py")}
    assert not (ROOT / "pages").exists()  # a pages/ folder puts Streamlit in its legacy multipage mode


def test_core_never_imports_streamlit():
    importers = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "core").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and any(name.split(".")[0] == "streamlit" for name in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]))
    ]
    assert importers == []


def test_home_shows_the_embedded_backend_and_a_friendly_empty_state():
    at = app()
    assert "Embedded · SmolLM2-135M-Instruct" in at.info[0].value
    assert any("No model calls yet this month" in caption.value for caption in at.caption)


def test_usage_page_totals_calls_per_page():
    record_call(page="email", backend="openai", model="gpt-4o-mini", tokens_in=100, tokens_out=50, latency_s=1.0, cost_usd=0.25)
    record_call(page="content", backend="embedded", model="SmolLM2", tokens_in=10, tokens_out=5, latency_s=2.0)
    at = app()
    at.switch_page("app_pages/usage.py").run()
    at.radio(key="usage_group").set_value("page").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["page"]) == {"email", "content"}
    assert table.set_index("page").loc["content", "compute_s"] == 2.0
    assert at.metric[2].value == "$0.2500"


def test_switching_to_openai_without_a_key_gives_a_sentence_not_a_traceback():
    at = app()
    at.radio(key="backend_kind").set_value("openai").run()
    assert at.text_input(key="backend_openai_api_key").value == ""
    at.button(key="backend_test").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "No API key is set for OpenAI: add OPENAI_API_KEY to the environment or .streamlit/secrets.toml, or type it in the sidebar."
    ]


def test_test_connection_reaches_a_compatible_server_and_keeps_the_key_out_of_storage(tmp_path):
    from core.usage import calls_frame
    from tests.openai_server import Reply, ScriptedOpenAIServer

    with ScriptedOpenAIServer([Reply(text="OK")]) as server:
        at = app()
        at.radio(key="backend_kind").set_value("openai").run()
        at.text_input(key="backend_openai_api_key").input("sk-typed-in-sidebar").run()
        at.text_input(key="backend_openai_base_url").input(server.base_url).run()
        at.text_input(key="backend_openai_model").input("my-vllm-model").run()
        at.button(key="backend_test").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Connected: OpenAI-compatible · my-vllm-model answered in")
    assert server.requests[0]["auth"] == "Bearer sk-typed-in-sidebar"
    stored = calls_frame().to_csv()
    assert "sk-typed-in-sidebar" not in stored
    assert "Active backend: **OpenAI-compatible · my-vllm-model**" in at.info[0].value


def test_local_backend_without_a_model_says_what_is_missing():
    at = app()
    at.radio(key="backend_kind").set_value("local").run()
    assert not at.exception
    assert "The local backend needs a model" in at.warning[0].value


def test_home_counts_reviews_analysed():
    import pandas as pd

    from core.ingest import Table
    from core.sentiment.datasets import analyse_table

    analyse_table(Table(frame=pd.DataFrame({"review": ["Lovely", "Awful", "Fine I guess"]}), source="three.csv"))
    at = app()
    assert at.metric[0].label == "Reviews analysed" and at.metric[0].value == "3"
