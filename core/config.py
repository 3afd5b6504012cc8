"""Settings: an explicit value wins, then the environment, then `.streamlit/secrets.toml`, then the default.

Secrets are read, never written: a key typed in the sidebar lives only in that browser session.
"""
from __future__ import annotations

import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, str] = {
    "MERCURY_BACKEND": "embedded",
    "MERCURY_LOCAL_MODEL": "",
    "OPENAI_MODEL": "gpt-4o-mini",
    "OPENAI_BASE_URL": "",
    "OPENAI_API_KEY": "",
    "OPENAI_TIMEOUT": "60",
    "OPENAI_MAX_RETRIES": "2",
    # Base URLs a visitor may type in the sidebar, comma-separated prefixes; empty: any http(s) URL.
    "MERCURY_ALLOWED_BASE_URLS": "",
    # The team's mailbox (core/mail/mailbox.py): imap://user@host:port/INBOX or imaps://...; its password apart.
    "MERCURY_IMAP_URL": "",
    "MERCURY_IMAP_PASSWORD": "",
    "MERCURY_IMAP_TIMEOUT": "30",
    # multilingual-e5-small from an OpenAI-compatible /v1/embeddings server (core/models/remote.py); empty: in process
    "MERCURY_EMBEDDINGS_URL": "",
    "MERCURY_EMBEDDINGS_MODEL": "intfloat/multilingual-e5-small",
    "MERCURY_EMBEDDINGS_KEY": "",
    # Jobs (core/jobs): the queue (empty: SQLite in the data folder; redis://host:6379/0 for workers on several machines)
    "MERCURY_QUEUE_URL": "",
    "MERCURY_JOB_STALE_S": "60",  # seconds a running job's heartbeat may be silent before its worker counts as dead
    # "1" declares that a login proxy stands in front of an app serving the network (the mailbox is shown)
    "MERCURY_TRUSTED_PROXY_LOGIN": "",
}
# Settings that are secrets: their values are scrubbed from any text Mercury stores, shows or exports.
SECRET_SETTINGS = ("OPENAI_API_KEY", "MERCURY_IMAP_PASSWORD", "MERCURY_EMBEDDINGS_KEY")
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}|(?i:\bbearer\s+)[A-Za-z0-9._~+/\-]{8,}=*")
REDACTED = "[redacted]"

def secrets_path() -> Path:
    return Path(os.environ.get("MERCURY_SECRETS_FILE", PROJECT_ROOT / ".streamlit" / "secrets.toml"))


@lru_cache(maxsize=4)
def _read_secrets(path: str, mtime: float) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _secrets() -> dict:
    path = secrets_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    return _read_secrets(str(path), mtime)


def secrets_section(name: str) -> dict:
    """A [section] of the secrets file (e.g. Streamlit's [auth]), {} when there is none."""
    section = _secrets().get(name)
    return section if isinstance(section, dict) else {}


def setting(name: str, explicit: str | None = None, default: str | None = None) -> str:
    """Resolve one setting: explicit value, environment, secrets file, then default."""
    if explicit not in (None, ""):
        return str(explicit)
    value = os.environ.get(name)
    if value:
        return value
    secret = _secrets().get(name)
    if secret not in (None, ""):
        return str(secret)
    if default is not None:
        return default
    return DEFAULTS.get(name, "")


def data_dir() -> Path:
    """Where Mercury keeps its database, converted models and caches (gitignored)."""
    path = Path(setting("MERCURY_DATA_DIR", default=str(PROJECT_ROOT / "data")))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(explicit: str | None = None) -> str:
    url = setting("DATABASE_URL", explicit, default="")
    return url or f"sqlite:///{data_dir() / 'mercury.db'}"


def redact(text: str, *secrets: str) -> str:
    """Text with every known secret and anything shaped like an API key replaced by [redacted]."""
    known = {*secrets, *(setting(name) for name in SECRET_SETTINGS)}
    for secret in sorted((k for k in known if k and len(k) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _KEY_LIKE.sub(REDACTED, text)
