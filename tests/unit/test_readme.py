"""The README stays true: every CLI command, every flow and every XBOT_ setting is documented there."""

from __future__ import annotations

import re
from typing import Any

import typer

from xbot_core.cli import app
from xbot_core.settings import PROJECT_DIR, Settings

README = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")


def command_paths(cmd: Any, prefix: str = "xbot") -> list[str]:
    if hasattr(cmd, "commands"):  # a group (typer vendors its own click)
        out = []
        for name, sub in cmd.commands.items():
            out += command_paths(sub, f"{prefix} {name}")
        return out
    return [prefix]


def test_readme_starts_with_the_two_commands() -> None:
    head = README[:1500]
    assert "make demo" in head and "make test" in head


def test_every_cli_command_is_in_the_readme() -> None:
    paths = command_paths(typer.main.get_command(app))
    assert len(paths) >= 5
    missing = [p for p in paths if p not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [f"XBOT_{n.upper()}" for n in Settings.model_fields if f"`XBOT_{n.upper()}`" not in README]
    assert not missing, f"settings missing from README.md's configuration table: {missing}"


def test_every_flow_is_in_the_readme() -> None:
    flows_dir = PROJECT_DIR / "flows"
    names = set()
    for path in flows_dir.glob("*.py"):
        names |= set(re.findall(r'@flow\([^)]*name="([a-z0-9_-]+)"', path.read_text()))
    missing = sorted(n for n in names if n not in README)
    assert not missing, f"flows missing from README.md: {missing}"


def test_every_top_level_folder_has_a_note() -> None:
    for folder in ("notebooks/", "xbot_core/", "flows/", "sql/", "reports/", "tests/", "bench/", "docs/"):
        # the tree line: the folder at the start of a line, then its note on the same line
        assert re.search(rf"^{re.escape(folder)}\s+\S", README, re.MULTILINE), f"no note for {folder}"
