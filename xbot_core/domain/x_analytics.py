"""Parse X's per-post analytics exports (both formats X has offered) into typed rows; pure, all or nothing.

- legacy analytics.twitter.com "Tweet activity" export: `"Tweet id","Tweet permalink","Tweet text","time",…`,
  counts written as floats (`1777.0`), `-` in the promoted columns, `time` like `2021-11-30 16:00 +0000`;
- current X "content" export: `Post id,Date,Post text,Post Link,Impressions,…`, `Date` a day only
  (`"Sat, Aug 22, 2026"`), stored as that day's midnight in the account's time zone with `time_known = False`.

The format is told by the header; columns are found by name (case and spacing ignored), so an export with
more, fewer or reordered metric columns still parses, and a metric the format lacks stays None (NULL).
Any bad value stops the whole file with an error naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import polars as pl

from xbot_core.errors import ImportDataError

LEGACY = "legacy_tweet_activity"
CONTENT = "content"

# the metrics stored per read, in this order (ImportedRow fields after the post's own fields)
METRICS: tuple[str, ...] = (
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
)

# per format: our field -> the export's column name (lower case); id, time and text are required
_COLUMNS: dict[str, dict[str, str]] = {
    LEGACY: {
        "tweet_id": "tweet id",
        "posted": "time",
        "text": "tweet text",
        "impressions": "impressions",
        "engagements": "engagements",
        "likes": "likes",
        "replies": "replies",
        "reposts": "retweets",
        "follows": "follows",
        "profile_visits": "user profile clicks",
        "url_clicks": "url clicks",
        "hashtag_clicks": "hashtag clicks",
        "detail_expands": "detail expands",
        "permalink_clicks": "permalink clicks",
        "media_views": "media views",
        "media_engagements": "media engagements",
    },
    CONTENT: {
        "tweet_id": "post id",
        "posted": "date",
        "text": "post text",
        "impressions": "impressions",
        "engagements": "engagements",
        "likes": "likes",
        "replies": "replies",
        "reposts": "reposts",
        "bookmarks": "bookmarks",
        "shares": "shares",
        "follows": "new follows",
        "profile_visits": "profile visits",
        "url_clicks": "url clicks",
        "hashtag_clicks": "hashtag clicks",
        "detail_expands": "detail expands",
        "permalink_clicks": "permalink clicks",
    },
}
_REQUIRED = ("tweet_id", "posted", "text", "impressions")

_TWEET_ID = re.compile(r"^[0-9]{1,25}$")
# a whole count as the exports write it: 12, 1777.0 (legacy floats), 1,234 (thousands separators)
_COUNT = re.compile(r"^(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.0*)?$")
MAX_COUNT = 2**63 - 1  # Postgres bigint
_MISSING = frozenset({"", "-"})
_BOM = b"\xef\xbb\xbf"
_LEGACY_TIME_FORMATS = ("%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M:%S %z")
_DAY_FORMATS = ("%a, %b %d, %Y", "%b %d, %Y", "%Y-%m-%d")
_EXPORT_END = (
    re.compile(r"_(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})(?:_[A-Za-z]+)?\.csv$"),
    re.compile(r"_(\d{8})_(\d{8})(?:_[A-Za-z]+)?\.csv$"),
)


class ImportedRow(NamedTuple):
    """One post of an export with its read: a tuple in the order the bulk COPY writes it."""

    tweet_id: str
    posted_at: datetime
    time_known: bool
    text: str
    is_reply: bool
    impressions: int | None
    engagements: int | None
    likes: int | None
    replies: int | None
    reposts: int | None
    bookmarks: int | None
    shares: int | None
    follows: int | None
    profile_visits: int | None
    url_clicks: int | None
    hashtag_clicks: int | None
    detail_expands: int | None
    permalink_clicks: int | None
    media_views: int | None
    media_engagements: int | None
    line: int


# the parsed frame: one row per post of the file, posted_at in UTC
FRAME_SCHEMA: dict[str, pl.DataType] = {
    "tweet_id": pl.String(),
    "posted_at": pl.Datetime("us", "UTC"),
    "time_known": pl.Boolean(),
    "text": pl.String(),
    "is_reply": pl.Boolean(),
    **{m: pl.Int64() for m in METRICS},
    "line": pl.Int64(),
}


@dataclass(frozen=True)
class ParsedExport:
    """A whole export file: its format, one frame row per post (FRAME_SCHEMA), and the rows skipped for
    having no post id."""

    source: str
    format: str
    frame: pl.DataFrame
    skipped_without_id: int

    @property
    def columns(self) -> tuple[str, ...]:
        """The metrics this format carries (the others are None in every row)."""
        return tuple(m for m in METRICS if m in _COLUMNS[self.format])

    @property
    def rows(self) -> list[ImportedRow]:
        return [ImportedRow._make(r) for r in self.frame.iter_rows()]


def is_reply(text: str) -> bool:
    """A post whose text starts with `@` answers someone (X's own convention for replies in exports)."""
    return text.lstrip().startswith("@")


def detect_format(header: list[str]) -> str | None:
    """LEGACY or CONTENT from a header row, or None when it is neither."""
    names = {h.strip().lower() for h in header}
    for fmt, cols in _COLUMNS.items():
        if all(cols[k] in names for k in _REQUIRED):
            return fmt
    return None


def export_end_date(filename: str) -> date | None:
    """The end date X writes into an export's file name (`…_2026-05-25_2026-07-31.csv`,
    `…_20170101_20170201_en.csv`), or None when the name has none."""
    for pattern in _EXPORT_END:
        m = pattern.search(filename)
        if m:
            raw = m.group(2)
            try:
                return date.fromisoformat(raw if "-" in raw else f"{raw[:4]}-{raw[4:6]}-{raw[6:]}")
            except ValueError:
                return None
    return None


def newest_post(frame: pl.DataFrame, tz: str) -> tuple[date, int] | None:
    """The newest post's day in the account's zone `tz` and its line (a parsed frame, FRAME_SCHEMA), or None
    for a file without posts. A day-only post's day is the day the export wrote."""
    if frame.height == 0:
        return None
    row = frame.select(pl.col("posted_at").dt.convert_time_zone(tz).dt.date().alias("day"), "line").sort(
        ["day", "line"], descending=[True, False]
    )
    day, line = row.row(0)
    return day, int(line)


def parse_count(raw: str) -> int | None:
    """A non-negative whole count: `12`, `1777.0`, `1,234`; `-` or empty is None; anything else ValueError."""
    s = raw.strip()
    if s in _MISSING:
        return None
    if not _COUNT.match(s):
        if s.startswith("-") and _is_number(s[1:]):
            raise ValueError("is negative")
        raise ValueError("is not a whole count" if _is_number(s) else "is not a number")
    value = int(s.split(".")[0].replace(",", ""))
    if value > MAX_COUNT:
        raise ValueError("is too large")
    return value


def _is_number(s: str) -> bool:
    try:
        float(s.replace(",", ""))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)
def _legacy_time(raw: str) -> datetime:
    for fmt in _LEGACY_TIME_FORMATS:
        try:
            return datetime.strptime(raw.strip(), fmt)
        except ValueError:
            continue
    raise ValueError("is not a time like '2021-11-30 16:00 +0000'")


@lru_cache(maxsize=4096)
def _content_day(raw: str, tz: str) -> datetime:
    s = raw.strip()
    for fmt in _DAY_FORMATS:
        try:
            parsed = datetime.strptime(s, fmt)
        except ValueError:
            continue
        if fmt.startswith("%a") and parsed.strftime("%a") != s[:3]:
            raise ValueError(f"names the wrong weekday (that day is a {parsed.strftime('%A')})")
        return datetime.combine(parsed.date(), time(0), tzinfo=ZoneInfo(tz))
    raise ValueError("is not a day like 'Sat, Aug 22, 2026'")


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportDataError(f"{source}: line {line}: not UTF-8 text ({exc.reason})") from None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, fields): quoted texts may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportDataError(f"line {reader.line_num}: malformed CSV ({exc})") from None
        yield start, fields
        start = reader.line_num + 1


def parse_export(data: bytes, source: str, tz: str = "UTC") -> ParsedExport:
    """Parse one export file (its bytes; `source` names it in errors); `tz` is the account's time zone,
    used only for day-only dates. Raises ImportDataError naming the file and the line on any bad input.

    A vectorised Polars pass reads the file and finds the first bad value column by column (its message
    worded by the same rules); what it cannot vouch for (an empty cell that may be a short row, a CSV it
    rejects, bytes that are not UTF-8) goes through the row-by-row reference reader, which names the first
    bad line."""
    body = data[3:] if data.startswith(_BOM) else data
    try:
        fast = _parse_frame(body, tz)
    except (pl.exceptions.PolarsError, ValueError):
        fast = None
    except ImportDataError as exc:
        raise ImportDataError(f"{source}: {exc}") from None
    if fast is not None:
        fmt, frame, skipped = fast
        return ParsedExport(source=source, format=fmt, frame=frame, skipped_without_id=skipped)
    text = _decode(data, source)
    try:
        fmt, rows, skipped = _parse_rows(text, tz)
    except ImportDataError as exc:
        raise ImportDataError(f"{source}: {exc}") from None
    frame = pl.DataFrame(
        [(*r[:1], r.posted_at.astimezone(UTC), *r[2:]) for r in rows], schema=FRAME_SCHEMA, orient="row"
    )
    return ParsedExport(source=source, format=fmt, frame=frame, skipped_without_id=skipped)


def _parse_frame(data: bytes, tz: str) -> tuple[str, pl.DataFrame, int] | None:
    """The vectorised reader; None when the file needs the reference reader (to accept or to reject it).

    Bad values are found column by column; the first bad line's message comes from the reference rules
    applied to that row's cells (ImportDataError without the file name), so both readers say the same."""
    raw = pl.read_csv(data, infer_schema=False, empty_string_is_null=False, quote_char='"')
    fmt = detect_format(raw.columns)
    if fmt is None or raw.width == 0:
        return None
    if raw.height and raw.null_count().sum_horizontal().item() > 0:
        return None
    if raw.height and (raw[raw.columns[-1]] == "").any():
        return None  # a short row reads as empty trailing cells: only the reference reader can tell
    index = {h.strip().lower(): h for h in raw.columns}
    name = {field: index[col] for field, col in _COLUMNS[fmt].items() if col in index}
    line = pl.int_range(pl.len(), dtype=pl.Int64) + 2
    if data.count(b"\n") > raw.height + 1:  # some quoted cell spans lines: count them
        newlines = pl.sum_horizontal(pl.col(c).str.count_matches("\n", literal=True) for c in raw.columns)
        line = line + newlines.cum_sum() - newlines
    frame = raw.with_columns(
        line.cast(pl.Int64).alias("line"), pl.col(name["tweet_id"]).str.strip_chars().alias("tweet_id")
    )
    no_id = frame["tweet_id"] == ""
    skipped = int(no_id.sum())
    if skipped:
        frame = frame.filter(~no_id)
    posted = _day_or_time(fmt, tz)
    mapping: dict[str, datetime] = {}
    bad_days: list[str] = []
    for value in frame[name["posted"]].unique().to_list():
        try:
            mapping[value] = posted(value).astimezone(UTC)
        except ValueError:
            bad_days.append(value)
    # in the reference reader's order: id, date, then each metric, then impressions missing
    checks: list[tuple[str, pl.Series]] = [
        ("tweet_id", ~frame["tweet_id"].str.contains(_TWEET_ID.pattern)),
        ("posted", frame[name["posted"]].is_in(bad_days)),
    ]
    text = frame[name["text"]]
    columns: dict[str, pl.Series] = {
        "tweet_id": frame["tweet_id"],
        "posted_at": frame[name["posted"]].replace_strict(
            mapping, default=None, return_dtype=FRAME_SCHEMA["posted_at"]
        ),
        "time_known": pl.repeat(fmt == LEGACY, frame.height, eager=True),
        "text": text,
        "is_reply": text.str.strip_chars_start().str.starts_with("@"),
    }
    for m in METRICS:
        if m not in name:
            columns[m] = pl.repeat(None, frame.height, dtype=pl.Int64, eager=True)
            continue
        columns[m], bad = _counts(frame[name[m]])
        checks.append((m, bad))
    checks.append(("missing", columns["impressions"].is_null()))
    first_bad = pl.select(pl.any_horizontal(b for _, b in checks).arg_true().first()).item()
    if first_bad is not None:
        cells = frame.row(first_bad, named=True)
        _raise_first(checks, first_bad, cells, name, posted)
        return None  # the reference rules found nothing wrong in that row: let the reference reader decide
    columns["line"] = frame["line"]
    return fmt, pl.DataFrame([s.alias(k) for k, s in columns.items()]), skipped


def _day_or_time(fmt: str, tz: str) -> Callable[[str], datetime]:
    return _legacy_time if fmt == LEGACY else lambda raw: _content_day(raw, tz)


def _raise_first(
    checks: list[tuple[str, pl.Series]],
    row: int,
    cells: dict[str, object],
    name: dict[str, str],
    posted: Callable[[str], datetime],
) -> None:
    """ImportDataError for the first failing check of one row, worded by the reference rules."""
    at = f"line {cells['line']}"
    for field, bad in checks:
        if not bad[row]:
            continue
        if field == "tweet_id":
            raise ImportDataError(f"{at}: {name['tweet_id'].strip()} {cells['tweet_id']!r} is not a post id")
        if field == "missing":
            raise ImportDataError(f"{at}: {name['impressions'].strip()} is missing")
        column = name[field]
        raw = str(cells[column])
        try:
            posted(raw) if field == "posted" else parse_count(raw)
        except ValueError as exc:
            raise ImportDataError(f"{at}: {column.strip()} {raw!r} {exc}") from None


def _counts(cells: pl.Series) -> tuple[pl.Series, pl.Series]:
    """parse_count over a column, vectorised: (values, bad) where bad marks cells that break its rules."""
    quick = cells.cast(pl.Int64, strict=False)
    if not quick.null_count() and not (quick < 0).any() and not cells.str.starts_with("+").any():
        return quick, pl.repeat(False, cells.len(), eager=True)  # plain digits: the common case
    s = cells.str.strip_chars()
    missing = s.is_in(list(_MISSING))
    value = s.str.replace(r"\..*$", "").str.replace_all(",", "", literal=True).cast(pl.Int64, strict=False)
    bad = ~missing & (~s.str.contains(_COUNT.pattern) | value.is_null())
    values = pl.select(pl.when(missing | bad).then(None).otherwise(value)).to_series()
    return values, bad


def _parse_rows(text: str, tz: str) -> tuple[str, list[ImportedRow], int]:
    """The reference reader: row by row with the csv module, first bad line raised."""
    records = _records(text)
    first = next(records, None)
    if first is None:
        raise ImportDataError("line 1: empty file, expected an X analytics export header")
    _, header = first
    fmt = detect_format(header)
    if fmt is None:
        shown = ",".join(header)[:120]
        raise ImportDataError(
            "line 1: neither X's legacy 'Tweet activity' export (Tweet id, time, …) nor its current "
            f"'content' export (Post id, Date, …); header: {shown!r}"
        )
    index = {h.strip().lower(): i for i, h in enumerate(header)}
    cols = _COLUMNS[fmt]
    pos = {field: index[name] for field, name in cols.items() if name in index}
    label = {field: header[i].strip() for field, i in pos.items()}
    metric_pos: list[int | None] = [pos.get(m) for m in METRICS]
    i_id, i_posted, i_text = pos["tweet_id"], pos["posted"], pos["text"]
    width = len(header)
    posted = _day_or_time(fmt, tz)
    time_known = fmt == LEGACY
    rows: list[ImportedRow] = []
    skipped = 0
    for line, fields in records:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line
        if len(fields) != width:
            raise ImportDataError(f"line {line}: {len(fields)} fields, the header has {width}")
        tweet_id = fields[i_id].strip()
        if not tweet_id:
            skipped += 1
            continue
        if not _TWEET_ID.match(tweet_id):
            raise ImportDataError(f"line {line}: {label['tweet_id']} {tweet_id!r} is not a post id")
        try:
            at = posted(fields[i_posted])
        except ValueError as exc:
            raise ImportDataError(f"line {line}: {label['posted']} {fields[i_posted]!r} {exc}") from None
        body = fields[i_text]
        values: list[int | None] = []
        for k, p in enumerate(metric_pos):
            if p is None:
                values.append(None)
                continue
            try:
                values.append(parse_count(fields[p]))
            except ValueError as exc:
                raise ImportDataError(f"line {line}: {label[METRICS[k]]} {fields[p]!r} {exc}") from None
        if values[0] is None:
            raise ImportDataError(f"line {line}: {label['impressions']} is missing")
        rows.append(ImportedRow._make((tweet_id, at, time_known, body, is_reply(body), *values, line)))
    return fmt, rows, skipped
