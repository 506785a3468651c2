"""Where the real X analytics exports live: ../shared/data/x-analytics beside the repository (as CI clones
it), or under XBOT_SHARED_DIR when the checkout sits elsewhere (e.g. a git worktree)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from xbot_core.settings import PROJECT_DIR

CURRENT_FILE = "account_analytics_content_2026-05-25_2026-07-31.csv"
LEGACY_GLOB = "tweet_activity_metrics_rOpenSci_2017*_en.csv"


def exports_dir() -> Path:
    """The folder of real exports; a test that needs it fails (never skips) when it is missing."""
    base = (
        Path(os.environ["XBOT_SHARED_DIR"])
        if os.environ.get("XBOT_SHARED_DIR")
        else PROJECT_DIR.parent / "shared"
    )
    folder = base / "data" / "x-analytics"
    if not folder.is_dir():
        pytest.fail(f"real X analytics exports not found at {folder} (set XBOT_SHARED_DIR)")
    return folder


def legacy_files() -> list[Path]:
    return sorted(exports_dir().glob(LEGACY_GLOB))


def import_legacy(conn: Any) -> None:
    """The rOpenSci legacy exports imported as that account's history (UTC), as of the files' end dates."""
    from datetime import date

    from xbot_core.services.operations.imports import import_exports

    import_exports(
        conn,
        legacy_files(),
        handle="rOpenSci",
        x_base_url="https://x.com",
        default_timezone="UTC",
        as_of=None,
        today=date(2026, 12, 2),
    )
