"""The shape of the code: one-way dependencies among Mercury's modules, modules a reader can hold in
mind, pages that are views, and models that never reach into features. Read from the source with
ast, so every import counts, at the top of a module or inside a function."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "ui", "app_pages")
MAX_MODULE_LINES = 460  # ruff format's lines: a call that does not fit in 160 characters takes one line per argument
FEATURES = ("core.sentiment", "core.mail", "core.content", "core.reports", "core.lab", "core.capacity", "core.brand")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    found["streamlit_app"] = ROOT / "streamlit_app.py"
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The Mercury modules a file imports (`from core.x import y` counts y when y is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return found & known


def graph() -> dict[str, set[str]]:
    table = modules()
    return {name: imports_of(path, set(table)) - {name} for name, path in table.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path of modules, or None (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_among_mercurys_modules():
    edges = graph()
    assert len(edges) > 40  # the walk sees the whole tree
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


def test_models_never_import_a_feature_module():
    for name, targets in graph().items():
        if name.startswith("core.models"):
            assert not {t for t in targets if t.startswith(FEATURES)}, name


def test_models_and_the_llm_layer_do_not_import_each_other_and_the_llm_layer_stores_nothing():
    edges = graph()
    for name, targets in edges.items():
        if name.startswith("core.models"):
            assert not {t for t in targets if t.startswith("core.llm")}, name
        if name == "core.llm" or name.startswith("core.llm.") and name != "core.llm.classifier":
            assert not {t for t in targets if t.startswith("core.models")}, name
            # usage rows are stored by a listener the app installs (core.usage.install), not from here
            assert not {"core.db", "core.usage"} & targets, name


def test_core_never_imports_ui_or_pages():
    for name, targets in graph().items():
        if name.startswith("core"):
            assert not {t for t in targets if t.startswith(("ui", "app_pages", "streamlit_app"))}, name


def test_no_module_is_longer_than_a_reader_can_hold():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, long


def test_pages_are_views_no_rows_built_no_json_decoded_no_model_chosen():
    for path in (ROOT / "app_pages").glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for a in node.names}
        imported |= {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        assert "json" not in imported, f"{path.name} decodes JSON itself"
        assert not any((node.module or "") == "core.db" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)), f"{path.name} builds database rows"
        assert not {"get_classifier", "AutoConfig", "AutoModel", "resolve_spec"} & imported, f"{path.name} chooses a model itself"


def test_every_user_error_is_one_family():
    """No module defines its own exception class outside core/errors.py."""
    for name, path in modules().items():
        if name == "core.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                assert not bases & {"Exception", "MercuryError", "ValueError", "RuntimeError"}, f"{name}.{node.name}"
