"""Every psql-runnable analytics query (sql/analytics/*.sql) runs on the server under test.

Not slow, so CI's PostgreSQL 15 pass runs it too: the notebook renders that read these queries run
once, on the embedded server, and this test re-checks their SQL on the second server flavour.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.plugins.api_dataset import API_HANDLE, ApiDataset
from xbot_core.services.read import analytics

pytestmark = pytest.mark.db

NAMES = sorted(p.stem for p in analytics.ANALYTICS_DIR.glob("*.sql"))
PARAMS = {
    "since": datetime(2025, 12, 1, tzinfo=UTC),
    "until": datetime.now(UTC) + timedelta(days=2),  # the seeded LLM budget day is today
    "handle": API_HANDLE,
}
# what the seeded dataset holds no rows for (imports, experiments, per-pass completeness are seeded elsewhere)
EMPTY_HERE = {"assignments", "content_type_labels", "experiments", "imported_history", "imported_reads"}


def test_the_list_of_queries_is_the_folder() -> None:
    assert {"outcomes", "decisions", "posted_times", "imported_history"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_analytics_query_runs_here(name: str, api_dataset: ApiDataset, clean_db: str) -> None:
    text = analytics.analytics_sql(name)
    rows = 0
    for simulated in (False, True):
        params = {"account_id": api_dataset.account_id, "simulated": simulated, **PARAMS}
        frame = analytics.load_sql(clean_db, text, params)
        assert frame.width > 0, name
        rows += frame.height
    if name not in EMPTY_HERE:
        assert rows > 0, f"{name}.sql returned no row for the seeded dataset"
