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

from xbot_core.adapters.db import history_repo
from xbot_core.domain.x_analytics import (
    METRICS,
    ParsedExport,
    export_end_date,
    newest_post,
    parse_export,
)
from xbot_core.errors import ConfigError, ImportDataError

_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,30}$")
# a batch of new reads at least this large, and at least this share of the account's posts after the import,
# is checked by the reference triggers with a merge anti-join (one walk of the posts' key) rather than per-row
# probes or a hash of every post: history_repo.plan_bulk_reference_checks
BULK_ROWS = 50_000
BULK_SHARE = 0.2
STAGE_COLUMNS: tuple[str, ...] = (
    "tweet_id",
    "posted_at",
    "time_known",
    "text",
    "is_reply",
    *METRICS,
    "line",
    "as_of",
    "export_format",
    "source_file",
)

_POST_COLUMNS = ("tweet_id", "posted_at", "time_known", "text", "is_reply")
_READ_COLUMNS = ("tweet_id", "as_of", "export_format", "source_file", *METRICS)
_POSTS_SCHEMA: dict[str, pl.DataType] = {"tweet_id": pl.String(), "time_known": pl.Boolean()}
_READS_SCHEMA: dict[str, pl.DataType] = {
    "tweet_id": pl.String(),
    "as_of": pl.Date(),
    **{m: pl.Int64() for m in METRICS},
}


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
    else today. An as-of before a file's newest post (a day in the account's zone) is an error naming the
    file: a read dated before its post would put the export in the wrong order of reads."""
    if not paths:
        raise ConfigError("no export file given")
    out = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImportDataError(f"{path}: cannot read ({exc.strerror or exc})") from None
        parsed = parse_export(data, str(path), tz)
        from_name = export_end_date(path.name)
        day = as_of or from_name or today
        newest = newest_post(parsed.frame, tz)
        if newest is not None and day < newest[0]:
            said = (
                f"--as-of {day}"
                if as_of
                else f"the end date in its name ({day})"
                if from_name
                else f"today ({day}, no --as-of and no end date in its name)"
            )
            raise ImportDataError(
                f"{path}: {said} is earlier than its newest post ({newest[0]}, line {newest[1]}); an export "
                "cannot be taken before its posts: pass the day the file was downloaded as --as-of"
            )
        out.append((parsed, day))
    return out


def _stage_frame(exports: list[tuple[ParsedExport, date]]) -> pl.DataFrame:
    """All rows of the call, one per (post, as_of): where a post repeats, the later file wins."""
    frames = [
        p.frame.with_columns(
            pl.lit(as_of, pl.Date).alias("as_of"),
            pl.lit(p.format).alias("export_format"),
            pl.lit(Path(p.source).name).alias("source_file"),  # the name, not the user's folders
        )
        for p, as_of in exports
    ]
    stage = pl.concat(frames, how="vertical").select(STAGE_COLUMNS)
    if len(frames) == 1 and stage["tweet_id"].n_unique() == stage.height:
        return stage  # one file without repeats: nothing to drop
    return stage.unique(subset=["tweet_id", "as_of"], keep="last", maintain_order=True)


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
    """Import the files for the account (created with the default time zone when new); one transaction.

    The diff against what is stored is made here (one read of the account's posts and of its reads on the
    import's as-of days), so new rows go straight to their tables through COPY; only changed rows (a
    corrected export, a time of day arriving for a day-only post) pass through the stage and an UPDATE."""
    handle = normalize_handle(handle)
    with conn.transaction():
        tz = history_repo.account_timezone(conn, handle) or default_timezone
    exports = read_exports(paths, tz=tz, as_of=as_of, today=today)
    stage = _stage_frame(exports)
    days = sorted({d for _, d in exports})
    with conn.transaction():
        account_id = history_repo.ensure_account(conn, handle, x_base_url=x_base_url, timezone=tz)
        params = {"account_id": account_id, "days": days}
        history_repo.lock_account(conn, params)
        stored_posts = history_repo.fetch_frame(conn, "import_existing_posts", params, _POSTS_SCHEMA)
        stored_reads = history_repo.fetch_frame(conn, "import_existing_reads", params, _READS_SCHEMA)
        diff = diff_stage(stage, stored_posts, stored_reads)
        if uses_bulk_checks(diff.new_reads.height, stored_posts.height + diff.new_posts.height):
            history_repo.plan_bulk_reference_checks(conn)
        acct = pl.lit(account_id, pl.Int64).alias("account_id")
        # in key order: each primary-key insert lands on the rightmost index page (fewer pages touched)
        new_posts = diff.new_posts.select(acct, *_POST_COLUMNS).sort("tweet_id")
        history_repo.copy_frame(conn, "imported_post_rows", new_posts)
        new_reads = diff.new_reads.select(acct, *_READ_COLUMNS).sort("tweet_id", "as_of")
        history_repo.copy_frame(conn, "imported_reads", new_reads)
        if diff.timed_posts.height or diff.changed_reads.height:
            history_repo.apply_stage(conn, pl.concat([diff.timed_posts, diff.changed_reads]), params)
    return ImportResult(
        handle=handle,
        account_id=account_id,
        files=tuple(
            FileSummary(p.source, p.format, p.frame.height, p.skipped_without_id, d) for p, d in exports
        ),
        posts_new=diff.new_posts.height,
        posts_updated=diff.timed_posts.height,
        reads_new=diff.new_reads.height,
        reads_changed=diff.changed_reads.height,
        reads_unchanged=stage.height - diff.new_reads.height - diff.changed_reads.height,
    )


def uses_bulk_checks(new_reads: int, posts_after: int) -> bool:
    """Whether a batch of `new_reads` into an account with `posts_after` posts is a bulk batch (BULK_ROWS,
    BULK_SHARE): the merge walks all the account's posts, which pays only when the batch is a good share."""
    return new_reads >= BULK_ROWS and new_reads >= BULK_SHARE * posts_after


@dataclass(frozen=True)
class StageDiff:
    """The staged rows split against what is stored (frames in STAGE_COLUMNS)."""

    new_posts: pl.DataFrame
    timed_posts: pl.DataFrame
    new_reads: pl.DataFrame
    changed_reads: pl.DataFrame


def diff_stage(stage: pl.DataFrame, stored_posts: pl.DataFrame, stored_reads: pl.DataFrame) -> StageDiff:
    """New posts, day-only posts whose time of day arrived, new reads, and reads whose values changed."""
    if stage["tweet_id"].n_unique() == stage.height:
        posts = stage  # one read per post (a single export): nothing to choose between
    else:  # a post in several exports: the row with its time of day wins
        posts = stage.sort("time_known").unique(subset=["tweet_id"], keep="last", maintain_order=True)
    if stored_posts.height == 0:  # the account's first import: every post is new
        new_posts, timed = posts, posts.clear()
    else:
        new_posts = posts.join(stored_posts, on="tweet_id", how="anti")
        timed = posts.filter(pl.col("time_known")).join(
            stored_posts.filter(~pl.col("time_known")), on="tweet_id", how="semi"
        )
    keys = ["tweet_id", "as_of"]
    if stored_reads.height == 0:  # a first import of these days: every read is new, none changed
        return StageDiff(new_posts, timed, stage, stage.clear())
    new_reads = stage.join(stored_reads, on=keys, how="anti")
    both = stage.join(stored_reads, on=keys, how="inner", suffix="__stored")
    changed = both.filter(pl.any_horizontal(pl.col(m).ne_missing(pl.col(f"{m}__stored")) for m in METRICS))
    return StageDiff(new_posts, timed, new_reads, changed.select(STAGE_COLUMNS))
