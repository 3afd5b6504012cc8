import os
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


def _route_with_navigation_in_apptest() -> None:
    """AppTest resets Streamlit's "uses a pages/ folder" flag before every run, so with our pages/
    folder it would run the page file alone from the second run on. The real server clears that flag
    for good once st.navigation is called; keep it cleared here too."""
    from streamlit.runtime.pages_manager import PagesManager

    original_init = PagesManager.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init


_route_with_navigation_in_apptest()


@pytest.fixture(autouse=True)
def fresh_database(tmp_path, monkeypatch):
    """Every test gets its own SQLite file, so counts and rows are its own."""
    from core import db

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'mercury-test.db'}")
    yield
    db.dispose_engines()
