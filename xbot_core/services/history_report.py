"""The data of the history report: an account's imported posts with their features and the per-feature table
(domain.history_analysis). Notebooks and the CLI call this; it holds no statistics of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from xbot_core.domain.history_analysis import HistoryAnalysisConfig, history_table, with_features
from xbot_core.services import analytics


@dataclass(frozen=True)
class HistoryData:
    """The posts (one row per post, latest read, with FEATURES columns) and the table of comparisons."""

    handle: str
    timezone: str
    posts: pl.DataFrame
    table: pl.DataFrame


def load_history(
    url: str,
    handle: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    config: HistoryAnalysisConfig | None = None,
) -> HistoryData:
    """Read the account's imported posts in [since, until) (default: all) and analyse them."""
    posts = analytics.load_sql(
        url,
        analytics.analytics_sql("imported_history"),
        {
            "handle": handle,
            "since": since or datetime(1970, 1, 1, tzinfo=UTC),
            "until": until or datetime(9999, 1, 1, tzinfo=UTC),
        },
    )
    tz = str(posts["timezone"][0]) if posts.height else "UTC"
    posts = with_features(posts.drop("timezone"), tz) if posts.height else posts.drop("timezone")
    table = history_table(posts, config) if posts.height else pl.DataFrame()
    return HistoryData(handle=handle, timezone=tz, posts=posts, table=table)
