"""The export parser on the real files (counts and sums read independently with csv + float) and on
hand-made bad files: each bad input is one error naming the file, the line and the column."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.x_analytics_data import CURRENT_FILE, exports_dir, legacy_files
from xbot_core.domain.x_analytics import (
    CONTENT,
    LEGACY,
    _parse_frame,
    _parse_rows,
    export_end_date,
    is_reply,
    newest_post,
    parse_count,
    parse_export,
)
from xbot_core.errors import ImportDataError

CURRENT_HEADER = (
    "Post id,Date,Post text,Post Link,Impressions,Likes,Engagements,Bookmarks,Shares,New follows,Replies,"
    "Reposts,Profile visits,Detail Expands,URL Clicks,Hashtag Clicks,Permalink Clicks\n"
)


def _current_bytes() -> bytes:
    return (exports_dir() / CURRENT_FILE).read_bytes()


def _content_row(post_id: str, day: str, text: str, impressions: str = "10") -> str:
    return (
        f'{post_id},"{day}","{text}",https://x.com/a/status/{post_id},{impressions},1,2,0,0,0,0,0,1,0,0,0,0\n'
    )


# --- the real files ---------------------------------------------------------------------------------


def test_current_export_counts_and_sums() -> None:
    p = parse_export(_current_bytes(), CURRENT_FILE, "UTC")
    assert p.format == CONTENT
    assert len(p.rows) == 70 and p.skipped_without_id == 0
    assert sum(r.impressions or 0 for r in p.rows) == 2112
    assert sum(r.likes or 0 for r in p.rows) == 65
    assert sum(r.follows or 0 for r in p.rows) == 1
    assert sum(r.bookmarks or 0 for r in p.rows) == 2
    assert sum(r.profile_visits or 0 for r in p.rows) == 29
    assert sum(r.url_clicks or 0 for r in p.rows) == 0
    assert sum(r.is_reply for r in p.rows) == 24
    assert not any(r.time_known for r in p.rows)
    assert all(r.media_views is None for r in p.rows)  # not a column of this format: NULL, never 0
    last = p.rows[-1]
    assert (last.tweet_id, last.posted_at) == ("2059283323420131815", datetime(2026, 5, 26, tzinfo=UTC))
    assert last.line == 71


def test_current_export_day_is_midnight_in_the_account_zone() -> None:
    p = parse_export(_current_bytes(), CURRENT_FILE, "America/New_York")
    first = p.rows[0]
    assert first.posted_at == datetime(2026, 7, 31, tzinfo=ZoneInfo("America/New_York"))
    assert first.posted_at.astimezone(UTC) == datetime(2026, 7, 31, 4, tzinfo=UTC)
    assert first.time_known is False


def test_legacy_exports_counts_and_sums() -> None:
    files = legacy_files()
    assert len(files) == 12
    parsed = [parse_export(f.read_bytes(), f.name) for f in files]
    assert {p.format for p in parsed} == {LEGACY}
    rows = [r for p in parsed for r in p.rows]
    assert [len(p.rows) for p in parsed] == [37, 25, 26, 32, 20, 33, 28, 45, 46, 28, 34, 20]
    assert len(rows) == 374
    assert sum(r.impressions or 0 for r in rows) == 1_857_985
    assert sum(r.follows or 0 for r in rows) == 37
    assert sum(r.likes or 0 for r in rows) == 5080
    assert sum(r.profile_visits or 0 for r in rows) == 2361
    assert sum(r.is_reply for r in rows) == 66
    assert all(r.time_known and r.bookmarks is None for r in rows)
    first = parsed[0].rows[0]
    assert first.tweet_id == "826144200114663424"
    assert first.posted_at == datetime(2017, 1, 30, 19, 5, tzinfo=UTC)
    assert (first.impressions, first.engagements, first.reposts, first.url_clicks) == (4715, 46, 7, 23)


def test_legacy_multiline_texts_keep_their_lines_and_line_numbers() -> None:
    f = next(f for f in legacy_files() if "_20170601_20170701" in f.name)
    p = parse_export(f.read_bytes(), f.name)
    multi = next(r for r in p.rows if r.tweet_id == "876885716122324992")
    assert multi.line == 13 and multi.text.count("\n") == 5
    after = p.rows[p.rows.index(multi) + 1]
    assert (after.tweet_id, after.line) == ("876885124213690368", 19)


def test_bom_and_crlf_parse_the_same() -> None:
    plain = parse_export(_current_bytes(), CURRENT_FILE)
    bom = parse_export(b"\xef\xbb\xbf" + _current_bytes().replace(b"\n", b"\r\n"), CURRENT_FILE)
    assert bom.rows == plain.rows


def test_thousands_separators_and_floats() -> None:
    data = (CURRENT_HEADER + _content_row("11", "Sat, Aug 22, 2026", "hi", '"1,234"')).encode()
    assert parse_export(data, "x.csv").rows[0].impressions == 1234
    assert [parse_count(s) for s in ("1777.0", "12", "1,234,567", "-", "", " 7 ")] == [
        1777,
        12,
        1234567,
        None,
        None,
        7,
    ]


def test_row_without_id_is_skipped_and_counted() -> None:
    data = (
        CURRENT_HEADER
        + _content_row("", "Sat, Aug 22, 2026", "x")
        + _content_row("12", "Sat, Aug 22, 2026", "@a hi")
    )
    p = parse_export(data.encode(), "x.csv")
    assert p.skipped_without_id == 1
    assert [(r.tweet_id, r.is_reply, r.line) for r in p.rows] == [("12", True, 3)]


def test_replies_are_texts_starting_with_at() -> None:
    assert is_reply("@someone thanks") and is_reply("  @x") and not is_reply("thanks @someone")


def test_export_end_date_from_x_file_names() -> None:
    assert export_end_date("account_analytics_content_2026-05-25_2026-07-31.csv") == date(2026, 7, 31)
    assert export_end_date("tweet_activity_metrics_rOpenSci_20170101_20170201_en.csv") == date(2017, 2, 1)
    assert export_end_date("my_export.csv") is None
    assert export_end_date("x_20170101_20171399_en.csv") is None


# --- bad files: one clear error naming the file and the line -----------------------------------------


def _error(data: bytes, name: str = "bad.csv") -> str:
    with pytest.raises(ImportDataError) as info:
        parse_export(data, name)
    return str(info.value)


def test_bad_count_names_file_line_and_column() -> None:
    lines = _current_bytes().decode().splitlines(keepends=True)
    fields = next(csv.reader([lines[30]]))
    fields[4] = "lots"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    lines[30] = out.getvalue()
    msg = _error("".join(lines).encode(), CURRENT_FILE)
    assert msg == f"{CURRENT_FILE}: line 31: Impressions 'lots' is not a number"


def test_bad_value_after_a_multiline_text_names_the_right_line() -> None:
    f = next(f for f in legacy_files() if "_20170601_20170701" in f.name)
    text = f.read_text()
    target = '"876885124213690368"'
    start = text.index(target)
    end = text.index("\n", start)
    row = text[start:end].split('","')
    row[4] = "4.5e3"
    msg = _error((text[:start] + '","'.join(row) + text[end:]).encode(), f.name)
    assert msg == f"{f.name}: line 19: impressions '4.5e3' is not a whole count"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (_content_row("12", "Sat, Aug 22, 2026", "x", "-3"), "line 2: Impressions '-3' is negative"),
        (
            _content_row("12", "Sat, Aug 22, 2026", "x", "2.5"),
            "line 2: Impressions '2.5' is not a whole count",
        ),
        (_content_row("12", "Sat, Aug 22, 2026", "x", "-"), "line 2: Impressions is missing"),
        (
            _content_row("12", "Fri, Aug 22, 2026", "x"),
            "line 2: Date 'Fri, Aug 22, 2026' names the wrong weekday",
        ),
        (_content_row("12", "22/08/2026", "x"), "line 2: Date '22/08/2026' is not a day like"),
        (_content_row("8.26E+17", "Sat, Aug 22, 2026", "x"), "line 2: Post id '8.26E+17' is not a post id"),
        ("12,only,three\n", "line 2: 3 fields, the header has 17"),
    ],
)
def test_bad_rows(row: str, message: str) -> None:
    data = (CURRENT_HEADER + _content_row("11", "Sat, Aug 22, 2026", "fine") + row).encode()
    msg = _error(data)
    assert msg.startswith(f"bad.csv: {message.replace('line 2', 'line 3')}")


def test_neither_format_and_empty_and_not_utf8() -> None:
    assert _error(b"id,date,text\n1,2,3\n").startswith("bad.csv: line 1: neither X's legacy")
    assert _error(b"").startswith("bad.csv: line 1: empty file")
    assert _error(CURRENT_HEADER.encode() + b'12,"Sat, Aug 22, 2026",caf\xe9\n').startswith(
        "bad.csv: line 2: not UTF-8 text"
    )


def test_legacy_bad_time() -> None:
    f = legacy_files()[0]
    text = f.read_text().replace('"2017-01-30 19:05 +0000"', '"30/01/2017 19:05"', 1)
    assert _error(text.encode(), f.name) == (
        f"{f.name}: line 2: time '30/01/2017 19:05' is not a time like '2021-11-30 16:00 +0000'"
    )


def test_vectorised_reader_agrees_with_the_reference_reader_on_every_real_file() -> None:
    for f in [exports_dir() / CURRENT_FILE, *legacy_files()]:
        fast = parse_export(f.read_bytes(), f.name, "Europe/Berlin")
        fmt, rows, skipped = _parse_rows(f.read_text(encoding="utf-8-sig"), "Europe/Berlin")
        assert (fast.format, fast.skipped_without_id) == (fmt, skipped)
        assert fast.rows == rows, f.name


def test_blank_lines_are_not_rows() -> None:
    data = (
        CURRENT_HEADER
        + _content_row("11", "Sat, Aug 22, 2026", "a")
        + "\n"
        + _content_row("12", "Sat, Aug 22, 2026", "b")
    )
    p = parse_export(data.encode(), "x.csv")
    assert [(r.tweet_id, r.line) for r in p.rows] == [("11", 2), ("12", 4)]
    assert p.skipped_without_id == 0


def test_newest_post_is_a_day_in_the_accounts_zone() -> None:
    f = legacy_files()[1]  # newest post 2017-02-28 23:00 +0000
    frame = parse_export(f.read_bytes(), f.name).frame
    assert newest_post(frame, "UTC") == (date(2017, 2, 28), 2)
    assert newest_post(frame, "Europe/Berlin") == (date(2017, 3, 1), 2)  # already midnight past in Berlin
    current = parse_export(_current_bytes(), CURRENT_FILE, "America/New_York").frame
    assert newest_post(current, "America/New_York") == (date(2026, 7, 31), 2)  # a day-only date stays its day
    assert newest_post(current.clear(), "UTC") is None


def test_the_vectorised_reader_names_the_first_bad_line_itself() -> None:
    """No row-by-row pass over a large file to report a bad value: the Polars reader words it the same."""
    ok = _content_row("11", "Sat, Aug 22, 2026", "fine")
    cases = [
        (_content_row("12", "Sat, Aug 22, 2026", "x", "lots"), "line 3: Impressions 'lots' is not a number"),
        (_content_row("12", "Fri, Aug 22, 2026", "x", "lots"), "line 3: Date 'Fri, Aug 22, 2026' names"),
        (_content_row("1x", "Fri, Aug 22, 2026", "x", "lots"), "line 3: Post id '1x' is not a post id"),
        (_content_row("12", "Sat, Aug 22, 2026", "x", "-"), "line 3: Impressions is missing"),
        (
            _content_row("12", "Sat, Aug 22, 2026", "x", '"99,999,999,999,999,999,999"'),
            "line 3: Impressions '99,999,999,999,999,999,999' is too large",
        ),
    ]
    for row, message in cases:
        data = (CURRENT_HEADER + ok + row + _content_row("13", "Sat, Aug 22, 2026", "y", "-1")).encode()
        with pytest.raises(ImportDataError, match=message):
            _parse_frame(data, "UTC")
        assert _error(data).startswith(f"bad.csv: {message}")
