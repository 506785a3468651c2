"""`xbot import x-analytics` against the real database: both formats, bad input writes nothing, re-import
rules (same file twice changes nothing; a later as-of adds a later read and the latest read wins)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from tests.x_analytics_data import CURRENT_FILE, exports_dir, legacy_files
from xbot_core.adapters.db import history_repo
from xbot_core.cli import app
from xbot_core.errors import ConfigError, ImportDataError
from xbot_core.services.operations.imports import BULK_ROWS, BULK_SHARE, import_exports, uses_bulk_checks
from xbot_core.settings import get_settings

pytestmark = pytest.mark.db
runner = CliRunner()
HANDLE = "MauroJPelle"


@pytest.fixture
def cli_db(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("XBOT_DATABASE_URL", clean_db)
    monkeypatch.setenv("XBOT_TIMEZONE", "UTC")
    get_settings.cache_clear()
    yield clean_db
    get_settings.cache_clear()


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["import", "x-analytics", *args])


def rows(url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def counts(url: str) -> tuple[int, int, int]:
    (r,) = rows(
        url,
        "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM imported_post_rows),"
        " (SELECT count(*) FROM imported_reads)",
    )
    return int(r[0]), int(r[1]), int(r[2])


def orphans(url: str) -> tuple[int, int]:
    """Reads without their post, posts without their account (0009 checks them per statement)."""
    (r,) = rows(
        url,
        "SELECT (SELECT count(*) FROM imported_reads r WHERE NOT EXISTS (SELECT 1 FROM imported_post_rows p"
        "  WHERE p.account_id = r.account_id AND p.tweet_id = r.tweet_id)),"
        " (SELECT count(*) FROM imported_post_rows p WHERE NOT EXISTS"
        "  (SELECT 1 FROM accounts a WHERE a.account_id = p.account_id))",
    )
    return int(r[0]), int(r[1])


def do_import(url: str, paths: list[Path], as_of: date | None = None, handle: str = HANDLE) -> Any:
    with psycopg.connect(url) as conn:
        return import_exports(
            conn,
            paths,
            handle=handle,
            x_base_url="http://127.0.0.1:1",
            default_timezone="UTC",
            as_of=as_of,
            today=date(2026, 12, 2),
        )


def test_current_export_through_the_cli(cli_db: str) -> None:
    result = invoke(str(exports_dir() / CURRENT_FILE), "--account", f"@{HANDLE}")
    assert result.exit_code == 0, result.output
    assert "70 posts (content export), as of 2026-07-31" in result.output
    assert "70 new posts, 70 new reads, 0 reads changed, 0 unchanged" in result.output
    (v,) = rows(
        cli_db,
        "SELECT count(*), sum(impressions), sum(likes), sum(follows), sum(bookmarks), sum(profile_visits),"
        " count(*) FILTER (WHERE is_reply), bool_or(time_known), min(as_of), max(as_of),"
        " min(posted_at), max(posted_at), count(url_clicks), min(account_handle)"
        " FROM imported_posts",
    )
    assert v == (
        70,
        2112,
        65,
        1,
        2,
        29,
        24,
        False,
        date(2026, 7, 31),
        date(2026, 7, 31),
        datetime(2026, 5, 26, tzinfo=UTC),
        datetime(2026, 7, 31, tzinfo=UTC),
        70,
        HANDLE,
    )
    # real data of the account, never bot decisions: nothing in the decision/outcome tables
    (d,) = rows(cli_db, "SELECT (SELECT count(*) FROM content_metadata), (SELECT count(*) FROM outcomes)")
    assert d == (0, 0)
    (s,) = rows(cli_db, "SELECT count(*) FROM imported_stage")
    assert s == (0,)
    assert rows(cli_db, "SELECT DISTINCT source_file, export_format FROM imported_reads") == [
        (CURRENT_FILE, "content")
    ]


def test_legacy_exports_at_once(clean_db: str) -> None:
    result = do_import(clean_db, legacy_files())
    assert (result.posts_new, result.reads_new) == (374, 374)
    assert [f.as_of for f in result.files][:2] == [date(2017, 2, 1), date(2017, 3, 1)]
    (v,) = rows(
        clean_db,
        "SELECT count(*), sum(impressions), sum(follows), sum(likes), count(bookmarks), bool_and(time_known),"
        " count(*) FILTER (WHERE is_reply) FROM imported_posts",
    )
    assert v == (374, 1_857_985, 37, 5080, 0, True, 66)
    assert orphans(clean_db) == (0, 0)
    (first,) = rows(
        clean_db, "SELECT posted_at, as_of FROM imported_posts WHERE tweet_id = '826144200114663424'"
    )
    assert first == (datetime(2017, 1, 30, 19, 5, tzinfo=UTC), date(2017, 2, 1))


def test_day_only_dates_are_midnight_in_an_existing_accounts_zone(clean_db: str) -> None:
    with psycopg.connect(clean_db) as conn:  # an existing account keeps its own row and time zone
        conn.execute(
            "INSERT INTO accounts (handle, x_base_url, timezone) VALUES (%s, %s, %s)",
            (HANDLE, "https://x.com", "America/New_York"),
        )
    do_import(clean_db, [exports_dir() / CURRENT_FILE])
    (v,) = rows(clean_db, "SELECT min(posted_at), bool_or(time_known) FROM imported_posts")
    assert v == (datetime(2026, 5, 26, 4, tzinfo=UTC), False)
    (a,) = rows(clean_db, "SELECT x_base_url FROM accounts WHERE handle = %s", (HANDLE,))
    assert a == ("https://x.com",)


def test_same_file_twice_changes_nothing(clean_db: str) -> None:
    path = exports_dir() / CURRENT_FILE
    do_import(clean_db, [path])
    snapshot = "SELECT * FROM imported_reads ORDER BY tweet_id, as_of"
    before = rows(clean_db, snapshot), rows(clean_db, "SELECT * FROM imported_post_rows ORDER BY tweet_id")
    again = do_import(clean_db, [path])
    assert (again.posts_new, again.posts_updated, again.reads_new, again.reads_changed) == (0, 0, 0, 0)
    assert again.reads_unchanged == 70
    after = rows(clean_db, snapshot), rows(clean_db, "SELECT * FROM imported_post_rows ORDER BY tweet_id")
    assert after == before


def _later_export(tmp_path: Path, bump: int) -> tuple[Path, str]:
    """The current export with the first post's impressions raised, named as X names a later export."""
    source = (exports_dir() / CURRENT_FILE).read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(source, newline="")))
    table[1][4] = str(int(table[1][4]) + bump)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table)
    path = tmp_path / "account_analytics_content_2026-05-25_2026-08-31.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path, table[1][0]


def test_later_as_of_adds_a_read_and_the_latest_wins(clean_db: str, tmp_path: Path) -> None:
    do_import(clean_db, [exports_dir() / CURRENT_FILE])
    later, tweet_id = _later_export(tmp_path, 100)
    result = do_import(clean_db, [later])
    assert (result.posts_new, result.reads_new, result.reads_changed) == (0, 70, 0)
    reads = rows(
        clean_db,
        "SELECT as_of, impressions FROM imported_reads WHERE tweet_id = %s ORDER BY as_of",
        (tweet_id,),
    )
    assert reads == [(date(2026, 7, 31), 16), (date(2026, 8, 31), 116)]
    (shown,) = rows(
        clean_db, "SELECT impressions, as_of FROM imported_posts WHERE tweet_id = %s", (tweet_id,)
    )
    assert shown == (116, date(2026, 8, 31))
    assert counts(clean_db) == (1, 70, 140)
    # an explicit --as-of between the two reads (after the newest post) adds a read the view does not show
    do_import(clean_db, [exports_dir() / CURRENT_FILE], as_of=date(2026, 8, 15))
    (shown,) = rows(
        clean_db, "SELECT impressions, as_of FROM imported_posts WHERE tweet_id = %s", (tweet_id,)
    )
    assert shown == (116, date(2026, 8, 31))
    assert counts(clean_db) == (1, 70, 210)
    assert orphans(clean_db) == (0, 0)


def test_as_of_before_the_newest_post_is_one_error_naming_the_file(cli_db: str, tmp_path: Path) -> None:
    path = exports_dir() / CURRENT_FILE  # newest post: Fri, Jul 31, 2026 on line 2
    result = invoke(str(path), "--account", HANDLE, "--as-of", "2026-07-30")
    assert isinstance(result.exception, ImportDataError)
    assert str(result.exception) == (
        f"{path}: --as-of 2026-07-30 is earlier than its newest post (2026-07-31, line 2); an export cannot "
        "be taken before its posts: pass the day the file was downloaded as --as-of"
    )
    # the end date in a file's name is held to the same rule; the day of the newest post itself is fine
    renamed = tmp_path / "account_analytics_content_2026-05-25_2026-07-01.csv"
    renamed.write_bytes(path.read_bytes())
    result = invoke(str(path), str(renamed), "--account", HANDLE)
    assert isinstance(result.exception, ImportDataError)
    assert str(result.exception).startswith(f"{renamed}: the end date in its name (2026-07-01) is earlier")
    assert counts(cli_db) == (0, 0, 0)
    assert invoke(str(path), "--account", HANDLE, "--as-of", "2026-07-31").exit_code == 0


def test_corrected_export_for_the_same_day_replaces_that_read(clean_db: str, tmp_path: Path) -> None:
    do_import(clean_db, [exports_dir() / CURRENT_FILE])
    later, tweet_id = _later_export(tmp_path, 5)
    result = do_import(clean_db, [later], as_of=date(2026, 7, 31))
    assert (result.reads_new, result.reads_changed, result.reads_unchanged) == (0, 1, 69)
    (shown,) = rows(clean_db, "SELECT impressions FROM imported_posts WHERE tweet_id = %s", (tweet_id,))
    assert shown == (21,)


def test_bad_value_in_any_file_writes_nothing(cli_db: str, tmp_path: Path) -> None:
    source = (exports_dir() / CURRENT_FILE).read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(source, newline="")))
    table[30][4] = "lots"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table)
    bad = tmp_path / "bad_export.csv"
    bad.write_text(out.getvalue(), encoding="utf-8")
    result = invoke(str(exports_dir() / CURRENT_FILE), str(bad), "--account", HANDLE)
    assert result.exit_code != 0
    assert isinstance(result.exception, ImportDataError)
    assert str(result.exception) == f"{bad}: line 31: Impressions 'lots' is not a number"
    assert counts(cli_db) == (0, 0, 0)


def test_file_of_neither_format_writes_nothing(clean_db: str, tmp_path: Path) -> None:
    other = tmp_path / "followers.csv"
    other.write_text("date,followers\n2026-07-01,120\n", encoding="utf-8")
    with pytest.raises(ImportDataError, match=r"followers\.csv: line 1: neither X's legacy"):
        do_import(clean_db, [*legacy_files()[:2], other])
    with pytest.raises(ImportDataError, match=r"missing\.csv: cannot read"):
        do_import(clean_db, [tmp_path / "missing.csv"])
    with pytest.raises(ConfigError, match="is not an X handle"):
        do_import(clean_db, [exports_dir() / CURRENT_FILE], handle="not a handle")
    assert counts(clean_db) == (0, 0, 0)


def test_bad_as_of_is_one_clear_error(cli_db: str) -> None:
    result = invoke(str(exports_dir() / CURRENT_FILE), "--account", HANDLE, "--as-of", "31/07/2026")
    assert isinstance(result.exception, ConfigError)
    assert "--as-of must be a date YYYY-MM-DD" in str(result.exception)
    assert counts(cli_db) == (0, 0, 0)


def test_a_day_only_post_gets_its_time_when_a_legacy_export_has_it(clean_db: str, tmp_path: Path) -> None:
    # the same post in both formats: first the current export (day only), then a legacy one with the minute
    current = tmp_path / "account_analytics_content_2026-07-01_2026-07-31.csv"
    current.write_text(
        "Post id,Date,Post text,Post Link,Impressions,Likes,Engagements,Bookmarks,Shares,New follows,"
        "Replies,Reposts,Profile visits,Detail Expands,URL Clicks,Hashtag Clicks,Permalink Clicks\n"
        '2083233041749619167,"Fri, Jul 31, 2026",Pick one format.,https://x.com/a/status/2083233041749619167,'
        "16,1,1,0,0,0,0,0,0,0,0,0,0\n",
        encoding="utf-8",
    )
    legacy_header = (legacy_files()[0].read_text(encoding="utf-8").splitlines()[0]).split('","')
    values = {
        "Tweet id": "2083233041749619167",
        "Tweet text": "Pick one format.",
        "time": "2026-07-31 16:20 +0000",
    }
    cells = [values.get(h.strip('"'), "-" if h.startswith("promoted") else "0") for h in legacy_header]
    cells[legacy_header.index("impressions")] = "40.0"
    legacy = tmp_path / "tweet_activity_metrics_a_20260701_20260901_en.csv"
    legacy.write_text(
        ",".join(f'"{h.strip(chr(34))}"' for h in legacy_header)
        + "\n"
        + ",".join(f'"{c}"' for c in cells)
        + "\n",
        encoding="utf-8",
    )
    do_import(clean_db, [current])
    result = do_import(clean_db, [legacy])
    assert (result.posts_new, result.posts_updated, result.reads_new) == (0, 1, 1)
    (post,) = rows(clean_db, "SELECT posted_at, time_known, impressions, as_of FROM imported_posts")
    assert post == (datetime(2026, 7, 31, 16, 20, tzinfo=UTC), True, 40, date(2026, 9, 1))


def test_references_hold_for_every_writer(clean_db: str) -> None:
    """Migration 0009: a read needs its post, a post its account (checked per statement), ids are digits."""
    do_import(clean_db, [exports_dir() / CURRENT_FILE])
    (acct,) = rows(clean_db, "SELECT account_id FROM accounts WHERE handle = %s", (HANDLE,))[0]
    (tid,) = rows(clean_db, "SELECT min(tweet_id) FROM imported_post_rows")[0]
    bad: list[tuple[str, tuple[Any, ...], type[Exception]]] = [
        (
            "INSERT INTO imported_reads (account_id, tweet_id, as_of, export_format, source_file,"
            " impressions)"
            " VALUES (%s, '1', '2026-08-01', 'content', 'x.csv', 1)",
            (acct,),
            psycopg.errors.ForeignKeyViolation,
        ),
        (
            "INSERT INTO imported_post_rows (account_id, tweet_id, posted_at, time_known, text, is_reply)"
            " VALUES (%s, '1', now(), true, 'x', false)",
            (acct + 1,),
            psycopg.errors.ForeignKeyViolation,
        ),
        (
            "DELETE FROM imported_post_rows WHERE account_id = %s AND tweet_id = %s",
            (acct, tid),
            psycopg.errors.ForeignKeyViolation,
        ),
        ("DELETE FROM accounts WHERE account_id = %s", (acct,), psycopg.errors.ForeignKeyViolation),
        (
            "UPDATE imported_reads SET tweet_id = '1' WHERE account_id = %s AND tweet_id = %s",
            (acct, tid),
            psycopg.errors.ForeignKeyViolation,
        ),
    ]
    for tweet_id in ("", "12a", "1" * 26):
        bad.append(
            (
                "INSERT INTO imported_post_rows (account_id, tweet_id, posted_at, time_known, text, is_reply)"
                " VALUES (%s, %s, now(), true, 'x', false)",
                (acct, tweet_id),
                psycopg.errors.CheckViolation,
            )
        )
    for statement, params, error in bad:
        with psycopg.connect(clean_db) as conn, pytest.raises(error):
            conn.execute(statement, params)
    assert counts(clean_db) == (1, 70, 70)
    # in the right order everything goes: reads, then posts, then the account
    with psycopg.connect(clean_db) as conn:
        conn.execute("DELETE FROM imported_reads WHERE account_id = %s", (acct,))
        conn.execute("DELETE FROM imported_post_rows WHERE account_id = %s", (acct,))
        conn.execute("DELETE FROM accounts WHERE account_id = %s", (acct,))
    assert counts(clean_db) == (0, 0, 0)


def test_bulk_reference_plan_still_rejects_a_read_without_its_post(clean_db: str) -> None:
    """The merge anti-join a large batch is checked with finds the one orphan among many good reads."""
    do_import(clean_db, [exports_dir() / CURRENT_FILE])
    (acct,) = rows(clean_db, "SELECT account_id FROM accounts WHERE handle = %s", (HANDLE,))[0]
    good = (
        "INSERT INTO imported_reads (account_id, tweet_id, as_of, export_format, source_file, impressions)"
        " SELECT account_id, tweet_id, '2030-01-01'::date, 'content', 'x.csv', 1 FROM imported_post_rows"
        " WHERE account_id = %s"
    )
    orphan = " UNION ALL SELECT %s, '1', '2030-01-01'::date, 'content', 'x.csv', 1"
    with psycopg.connect(clean_db) as conn:
        history_repo.plan_bulk_reference_checks(conn)
        (plan,) = conn.execute("SHOW enable_hashjoin").fetchone() or ("",)
        assert plan == "off"
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(good + orphan, (acct, acct))
    with psycopg.connect(clean_db) as conn:
        history_repo.plan_bulk_reference_checks(conn)
        conn.execute(good, (acct,))  # the same rows without the orphan pass
    assert counts(clean_db) == (1, 70, 140)
    with psycopg.connect(clean_db) as conn:  # SET LOCAL: the plan ended with its transaction
        assert conn.execute("SHOW enable_hashjoin").fetchone() == ("on",)


def test_only_a_large_share_of_the_account_is_a_bulk_batch() -> None:
    assert uses_bulk_checks(1_000_000, 1_000_000)
    assert uses_bulk_checks(BULK_ROWS, int(BULK_ROWS / BULK_SHARE))
    assert not uses_bulk_checks(BULK_ROWS - 1, BULK_ROWS)  # too few rows: probes are cheap
    assert not uses_bulk_checks(BULK_ROWS, int(BULK_ROWS / BULK_SHARE) + 1)  # a small share of a big history
