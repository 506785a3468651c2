"""Pure parts of the parallel outcomes read: page ranges and the strategy choice."""

from __future__ import annotations

import pytest

from xbot_core.adapters.db.arrow_reader import END_OF_TABLE, page_ranges, tid
from xbot_core.services.read.outcome_loader import choose


def test_page_ranges_cover_the_table_and_run_to_its_end() -> None:
    assert page_ranges(10, 3) == [(0, 3), (3, 6), (6, END_OF_TABLE)]
    assert page_ranges(2, 8) == [(0, 1), (1, END_OF_TABLE)]  # never an empty range
    assert page_ranges(0, 4) == [(0, END_OF_TABLE)]  # an empty table is one open range
    assert tid(3) == "(3,0)" and END_OF_TABLE == 2**32 - 1
    with pytest.raises(ValueError):
        page_ranges(10, 0)


def test_choose_looks_up_a_narrow_window_and_scans_a_wide_one() -> None:
    # 2 outcome rows per post: 100k posts → 200k rows against 1M rows is 20 %, not under the 20 % share
    assert choose(99_999, 1_000_000) == "lookup"
    assert choose(100_000, 1_000_000) == "pages"
    assert choose(10, 0) == "pages"  # never analysed: no estimate, scan
    assert choose(10, -1) == "pages"
    assert choose(1_000, 1_000_000, lookup_share=0.001) == "pages"
