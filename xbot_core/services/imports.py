"""Import X analytics exports as the account's real, imported history (never bot decisions).

All or nothing per call: every file is read and parsed before anything is written, then one transaction
creates the account row if needed, COPYs every row into the stage and upserts posts and reads from it.
The same export twice changes nothing; a later as-of adds a later read (the `imported_posts` view shows the
latest read per post).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import psycopg
from psycopg import sql

from xbot_core.adapters.db.queries import query
from xbot_core.domain.x_analytics import ParsedExport, export_end_date, parse_export
from xbot_core.errors import ConfigError, ImportDataError

_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,30}$")
STAGE_COLUMNS: tuple[str, ...] = (
    "tweet_id",
    "posted_at",
    "time_known",
    "text",
    "is_reply",
    "impressions",
    "engagements",
    "likes",
    "replies",
    "reposts",
    "bookmarks",
    "shares",
    "follows",
    "profile_visits",
    "url_clicks",
    "hashtag_clicks",
    "detail_expands",
    "permalink_clicks",
    "media_views",
    "media_engagements",
    "line",
    "as_of",
    "export_format",
    "source_file",
)


@dataclass(frozen=True)
class FileSummary:
    """One file of the import: its format, rows, rows skipped without an id, and the as-of of its reads."""

    path: str
    format: str
    rows: int
    skipped_without_id: int
    as_of: date


@dataclass(frozen=True)
class ImportResult:
    """What one import wrote."""

    handle: str
    account_id: int
    files: tuple[FileSummary, ...]
    posts_new: int
    posts_updated: int
    reads_new: int
    reads_changed: int
    reads_unchanged: int

    @property
    def message(self) -> str:
        return (
            f"@{self.handle}: {sum(f.rows for f in self.files)} rows from {len(self.files)} file(s); "
            f"{self.posts_new} new posts, {self.reads_new} new reads, {self.reads_changed} reads changed, "
            f"{self.reads_unchanged} unchanged"
        )


def normalize_handle(handle: str) -> str:
    """The handle without a leading @; a ConfigError when X would not accept it."""
    h = handle.strip().removeprefix("@")
    if not _HANDLE.match(h):
        raise ConfigError(f"--account {handle!r} is not an X handle (1–30 letters, digits or _)")
    return h


def read_exports(
    paths: Sequence[Path], *, tz: str, as_of: date | None, today: date
) -> list[tuple[ParsedExport, date]]:
    """Parse every file (nothing is written); as-of: the given day, else the end date in X's file name,
    else today."""
    if not paths:
        raise ConfigError("no export file given")
    out = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImportDataError(f"{path}: cannot read ({exc.strerror or exc})") from None
        parsed = parse_export(data, str(path), tz)
        out.append((parsed, as_of or export_end_date(path.name) or today))
    return out


def _stage_frame(exports: list[tuple[ParsedExport, date]]) -> pl.DataFrame:
    """All rows of the call, one per (post, as_of): where a post repeats, the later file wins."""
    frames = [
        p.frame.with_columns(
            pl.lit(as_of, pl.Date).alias("as_of"),
            pl.lit(p.format).alias("export_format"),
            pl.lit(p.source).alias("source_file"),
        )
        for p, as_of in exports
    ]
    stage = pl.concat(frames, how="vertical") if frames else pl.DataFrame()
    return stage.unique(subset=["tweet_id", "as_of"], keep="last", maintain_order=True).select(STAGE_COLUMNS)


def import_exports(
    conn: psycopg.Connection,
    paths: Sequence[Path],
    *,
    handle: str,
    x_base_url: str,
    default_timezone: str,
    as_of: date | None,
    today: date,
) -> ImportResult:
    """Import the files for the account (created with the default time zone when new); one transaction."""
    handle = normalize_handle(handle)
    with conn.transaction():
        found = conn.execute(query("import_account_timezone"), {"handle": handle}).fetchone()
    tz = str(found[1]) if found else default_timezone
    exports = read_exports(paths, tz=tz, as_of=as_of, today=today)
    stage = _stage_frame(exports)
    with conn.transaction():
        row = conn.execute(
            query("import_ensure_account"), {"handle": handle, "x_base_url": x_base_url, "timezone": tz}
        ).fetchone()
        assert row is not None
        account_id = int(row[0])
        conn.execute(query("import_clear_stage"))
        _copy_stage(conn, stage)
        posts = conn.execute(query("import_upsert_posts"), {"account_id": account_id}).fetchone()
        reads = conn.execute(query("import_upsert_reads"), {"account_id": account_id}).fetchone()
        conn.execute(query("import_clear_stage"))
    assert posts is not None and reads is not None
    reads_new, reads_changed = int(reads[0]), int(reads[1])
    return ImportResult(
        handle=handle,
        account_id=account_id,
        files=tuple(
            FileSummary(p.source, p.format, p.frame.height, p.skipped_without_id, d) for p, d in exports
        ),
        posts_new=int(posts[0]),
        posts_updated=int(posts[1]),
        reads_new=reads_new,
        reads_changed=reads_changed,
        reads_unchanged=stage.height - reads_new - reads_changed,
    )


def _copy_stage(conn: psycopg.Connection, stage: pl.DataFrame) -> None:
    """COPY the stage frame as CSV (Polars writes it in one pass; empty cells are NULL, "" is '')."""
    stmt = sql.SQL("COPY imported_stage ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in STAGE_COLUMNS)
    )
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        chunk = 100_000
        for start in range(0, stage.height, chunk):
            copy.write(stage.slice(start, chunk).write_csv(include_header=False, null_value=""))
