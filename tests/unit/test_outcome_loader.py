"""Pure parts of the outcomes read: the strategy choice, and the scanner's extension found by its package."""

from __future__ import annotations

import duckdb

from xbot_core.adapters.db import pg_scanner
from xbot_core.services.read.outcome_loader import choose


def test_choose_looks_up_a_narrow_window_and_scans_a_wide_one() -> None:
    # 2 outcome rows per post: 100k posts → 200k rows against 1M rows is 20 %, not under the 20 % share
    assert choose(99_999, 1_000_000) == "lookup"
    assert choose(100_000, 1_000_000) == "scan"
    assert choose(10, 0) == "scan"  # never analysed: no estimate, scan
    assert choose(10, -1) == "scan"
    assert choose(1_000, 1_000_000, lookup_share=0.001) == "scan"


def test_the_scanner_extension_is_the_installed_packages_file_for_this_duckdb() -> None:
    path = pg_scanner.extension_file()
    assert path.name == "postgres_scanner.duckdb_extension"
    assert path.parent.name == f"v{duckdb.__version__}" and path.is_file()
