"""The history report's data read back from Postgres after a real import: the same posts, features and table
as the domain computes from the parsed files."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import psycopg
import pytest

from tests.x_analytics_data import import_legacy, legacy_files
from xbot_core.domain.history_analysis import STATUS_OK, history_table, with_features
from xbot_core.domain.x_analytics import parse_export
from xbot_core.services.operations.imports import import_exports
from xbot_core.services.reporting.history_report import load_history, power_markdown

pytestmark = pytest.mark.db


def test_history_from_the_database_matches_the_parsed_files(clean_db: str) -> None:
    with psycopg.connect(clean_db) as conn:
        import_legacy(conn)
    data = load_history(clean_db, "rOpenSci")
    assert data.posts.height == 374 and data.timezone == "UTC"
    assert data.posts["follows"].sum() == 37 and data.posts["impressions"].sum() == 1_857_985
    parsed = pl.concat([parse_export(f.read_bytes(), f.name).frame for f in legacy_files()])
    expected = history_table(with_features(parsed, "UTC"))
    got = data.table.sort("feature", "level", "metric")
    want = expected.sort("feature", "level", "metric")
    assert got.select("feature", "level", "metric", "posts", "status").equals(
        want.select("feature", "level", "metric", "posts", "status")
    )
    ok = got.filter(pl.col("status") == STATUS_OK)
    assert ok.height > 0
    assert ok["rate"].to_list() == pytest.approx(want.filter(pl.col("status") == STATUS_OK)["rate"].to_list())
    window = load_history(
        clean_db, "rOpenSci", since=datetime(2017, 6, 1, tzinfo=UTC), until=datetime(2017, 7, 1, tzinfo=UTC)
    )
    assert window.posts.height == 33  # the June export's rows
    assert load_history(clean_db, "nobody").posts.height == 0


def test_growth_between_two_exports_of_the_same_posts(clean_db: str) -> None:
    from tests.x_analytics_data import CURRENT_FILE, exports_dir

    with psycopg.connect(clean_db) as conn:
        for as_of in (date(2026, 7, 31), date(2026, 8, 31)):
            import_exports(
                conn,
                [exports_dir() / CURRENT_FILE],
                handle="MauroJPelle",
                x_base_url="https://x.com",
                default_timezone="UTC",
                as_of=as_of,
                today=date(2026, 12, 2),
            )
    data = load_history(clean_db, "MauroJPelle")
    assert data.growth.height == 70 and set(data.growth["reads"]) == {2}
    assert set(data.growth["impressions_growth"]) == {0}  # the same file twice: reads kept, nothing grew
    assert data.trend["posts"].to_list() == [2, 5, 63]  # May, June, July (counted from the CSV with csv)
    # one follow in 70 posts: the posts-needed section says not enough data and how many more posts
    follows = data.power.filter(pl.col("metric") == "follows_per_1k")
    assert set(follows["status"]) == {"not_enough_data"} and follows["posts_per_arm"].null_count() == 2
    assert "not enough data: 1 events in 70 posts" in power_markdown(data)
