"""Settings fail at start with a message naming the setting; secrets never show in their repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from xbot_core.errors import ConfigError
from xbot_core.settings import Settings, load_settings


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("XBOT_MODE", "sometimes", "XBOT_MODE"),
        ("XBOT_X_BASE_URL", "x.com", "XBOT_X_BASE_URL"),
        ("XBOT_LLM_DAILY_BUDGET_USD", "-1", "XBOT_LLM_DAILY_BUDGET_USD"),
        ("XBOT_TIMEZONE", "Mars/Olympus", "XBOT_TIMEZONE"),
        ("XBOT_COLLECT_CONCURRENCY", "0", "XBOT_COLLECT_CONCURRENCY"),
        ("XBOT_OPENAI_MODEL", "gpt-unknown", "XBOT_OPENAI_MODEL"),
        ("XBOT_API_PORT", "http", "XBOT_API_PORT"),
    ],
)
def test_invalid_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError, match=named):
        load_settings()


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in Settings.model_fields:
        monkeypatch.delenv(f"XBOT_{name.upper()}", raising=False)
    s = load_settings()
    assert s.database_url is None
    assert s.x_base_url.startswith("http://127.0.0.1")
    assert s.openai_base_url.startswith("http://127.0.0.1")
    assert s.session_file == s.data_dir / "session" / "storage_state.json"


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XBOT_OPENAI_API_KEY", "sk-live-very-secret-value")
    monkeypatch.setenv("XBOT_DATABASE_URL", "postgresql://u:hunter2@db/x")
    s = load_settings()
    assert "very-secret" not in repr(s) and "hunter2" not in repr(s)
    assert s.openai_api_key.get_secret_value() == "sk-live-very-secret-value"


def test_dotenv_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XBOT_ACCOUNT_HANDLE", raising=False)
    (tmp_path / ".env").write_text("XBOT_ACCOUNT_HANDLE=from_dotenv\n")
    assert load_settings().account_handle == "from_dotenv"


def test_state_lives_in_the_checkout_or_else_the_working_directory(tmp_path: Path) -> None:
    """A source checkout keeps .xbot/ and reports/ in the project; an installed package (no pyproject.toml
    beside it, e.g. site-packages) uses the working directory, never a folder inside site-packages."""
    from xbot_core.settings import home_dir

    checkout, site, cwd = tmp_path / "checkout", tmp_path / "site-packages", tmp_path / "work"
    for d in (checkout, site, cwd):
        d.mkdir()
    (checkout / "pyproject.toml").write_text("[project]\n", encoding="utf-8")
    assert home_dir(checkout, cwd) == checkout
    assert home_dir(site, cwd) == cwd
