from core.config import setting
from core.llm import resolve_spec


def test_explicit_then_environment_then_secrets_then_default(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('OPENAI_MODEL = "from-secrets"\nOPENAI_BASE_URL = "http://secrets.example/v1"\n')
    monkeypatch.setenv("MERCURY_SECRETS_FILE", str(secrets))
    assert setting("OPENAI_MODEL") == "from-secrets"
    monkeypatch.setenv("OPENAI_MODEL", "from-env")
    assert setting("OPENAI_MODEL") == "from-env"
    assert setting("OPENAI_MODEL", "explicit") == "explicit"
    monkeypatch.delenv("OPENAI_MODEL")
    secrets.write_text("")
    assert setting("OPENAI_MODEL") == "gpt-4o-mini"


def test_openai_spec_takes_key_from_environment_and_hides_it(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    spec = resolve_spec("openai")
    assert spec.api_key == "sk-secret-value"
    assert "sk-secret-value" not in repr(spec)
    assert spec.timeout == 60.0 and spec.max_retries == 2
