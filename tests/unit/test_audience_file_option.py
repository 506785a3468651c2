"""`xbot sandbox --audience FILE` and `xbot demo --audience FILE` refuse a bad file with one error naming it,
before anything starts (the sandbox through a real CLI subprocess: nothing listens, nothing is written)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.sandbox import free_port
from xbot_core.demo.driver import DemoConfig
from xbot_core.errors import ConfigError
from xbot_core.sandbox.config import AUDIENCE_FILE
from xbot_core.settings import PROJECT_DIR


def _bad_file(tmp_path: Path) -> Path:
    bad = tmp_path / "calibrated.toml"
    bad.write_text(AUDIENCE_FILE.read_text().replace("sigma = 0.75", "sigma = -1"), encoding="utf-8")
    return bad


def test_demo_refuses_a_bad_audience_file_before_starting(tmp_path: Path) -> None:
    bad = _bad_file(tmp_path)
    with pytest.raises(ConfigError, match=rf"invalid audience config {re.escape(str(bad))}: reach.sigma"):
        DemoConfig(audience_file=bad)
    assert DemoConfig(audience_file=AUDIENCE_FILE).audience_file == AUDIENCE_FILE


def test_sandbox_refuses_a_bad_audience_file_in_one_line(tmp_path: Path) -> None:
    bad = _bad_file(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBOT_")}
    env.update(
        PYTHONPATH=str(PROJECT_DIR),
        XBOT_DATA_DIR=str(tmp_path / "data"),
        XBOT_SANDBOX_PORT=str(free_port()),
        XBOT_DATABASE_URL="postgresql://nobody@127.0.0.1:9/none",  # never reached
    )
    r = subprocess.run(
        [sys.executable, "-m", "xbot_core.cli", "sandbox", "--audience", str(bad)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert lines[0].startswith(f"error: invalid audience config {bad}") and "reach.sigma" in lines[0]
    assert not (tmp_path / "data" / "sandbox").exists()
