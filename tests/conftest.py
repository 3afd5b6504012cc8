import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Tests never touch the network or the developer's own database and secrets.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["MERCURY_SECRETS_FILE"] = str(ROOT / "tests" / "no-secrets.toml")
for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MERCURY_BACKEND", "DATABASE_URL"):
    os.environ.pop(name, None)

from core import usage  # noqa: E402 - after the environment above

usage.install()  # as the app and the CLI do: every model call a test makes is stored as a usage row


@pytest.fixture(autouse=True)
def fresh_database(tmp_path, monkeypatch):
    """Every test gets its own SQLite file, so counts and rows are its own."""
    from core import db

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'mercury-test.db'}")
    yield
    db.dispose_engines()


@pytest.fixture
def scripted_backend():
    """The scripted backend (tests/scripted.py) registered for one test, as a backend module registers itself."""
    from tests import scripted

    scripted.install()
    yield scripted
    scripted.uninstall()


def run_cli(*args, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m core ARGS` as a person runs it: a real subprocess in the repository, offline."""
    return subprocess.run(
        [sys.executable, "-m", "core", *map(str, args)], cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )


def drain(generator) -> tuple[list, object]:
    """Every item a generator yields, and the value it returns."""
    items = []
    try:
        while True:
            items.append(next(generator))
    except StopIteration as finished:
        return items, finished.value
