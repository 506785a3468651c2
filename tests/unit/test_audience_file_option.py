"""`xbot sandbox --audience FILE` and `xbot demo --audience FILE` refuse a bad file with one error naming it,
before anything starts (`xbot` turns it into one `error:` line, tests/db/test_hostile_cli.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli_run import run_xbot
from tests.plugins.sandbox import free_port
from xbot_core.demo.driver import DemoConfig
from xbot_core.errors import ConfigError
from xbot_core.sandbox.config import AUDIENCE_FILE


def _bad_file(tmp_path: Path) -> Path:
    bad = tmp_path / "calibrated.toml"
    bad.write_text(AUDIENCE_FILE.read_text().replace("sigma = 0.75", "sigma = -1"), encoding="utf-8")
    return bad


def test_demo_refuses_a_bad_audience_file_before_starting(tmp_path: Path) -> None:
    bad = _bad_file(tmp_path)
    with pytest.raises(ConfigError, match=rf"invalid audience config {re.escape(str(bad))}: reach.sigma"):
        DemoConfig(audience_file=bad)
    assert DemoConfig(audience_file=AUDIENCE_FILE).audience_file == AUDIENCE_FILE


def test_sandbox_refuses_a_bad_audience_file_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = _bad_file(tmp_path)
    token = tmp_path / "token"
    r = run_xbot(
        monkeypatch,
        ["sandbox", "--audience", str(bad), "--port", str(free_port()), "--token-file", str(token)],
        data_dir=tmp_path / "data",
    )
    assert isinstance(r.exception, ConfigError) and r.exit_code != 0
    assert str(r.exception).startswith(f"invalid audience config {bad}: reach.sigma")
    assert not token.exists()  # nothing started
