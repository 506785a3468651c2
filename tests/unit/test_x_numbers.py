"""X count parsing, property-tested against the sandbox's formatter that mimics X's display."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xbot_core.adapters.x_browser.numbers import parse_action_count, parse_labelled_count, parse_x_count
from xbot_core.errors import ParseError
from xbot_core.sandbox.display import format_x_count, format_x_label


def resolution(n: int) -> int:
    """Width of the range of true counts that display the same (X truncates)."""
    if n < 10_000:
        return 1
    for size in (1_000_000_000, 1_000_000, 1_000):
        if n >= size:
            return size if n // size >= 100 else size // 10
    raise AssertionError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("987", 987),
        ("1,234", 1234),
        ("9,999", 9999),
        ("12.3K", 12300),
        ("12K", 12000),
        ("123K", 123000),
        ("1.2M", 1200000),
        ("12M", 12000000),
        ("2.5B", 2500000000),
        (" 4.7k ", 4700),
    ],
)
def test_known_formats(text: str, expected: int) -> None:
    assert parse_x_count(text) == expected


@pytest.mark.parametrize("text", ["", "—", "–", "-", "   ", None])
def test_missing_is_none_not_zero(text: str | None) -> None:
    assert parse_x_count(text) is None


@pytest.mark.parametrize(
    "text", ["abc", "1.2.3K", "12,3K", "1.5", "12 34", "1.2345K", "K", "1,23", "NaN", "∞"]
)
def test_unparseable_raises_with_raw_text(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_x_count(text)
    assert info.value.raw == text
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("1,234 Likes. Like", 1234),
        ("1 Like", 1),
        ("12.3K Followers", 12300),
        ("0 Replies. Reply", 0),
        ("Like", None),
        ("", None),
        ("— views", None),
    ],
)
def test_labels(label: str, expected: int | None) -> None:
    assert parse_labelled_count(label) == expected


def test_label_with_broken_number_raises() -> None:
    with pytest.raises(ParseError):
        parse_labelled_count("1.2.3K Likes")


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (987, "987"),
        (1234, "1,234"),
        (12345, "12.3K"),
        (12399, "12.3K"),
        (12000, "12K"),
        (123456, "123K"),
        (1_250_000, "1.2M"),
        (999_999, "999K"),
        (10_000, "10K"),
        (100_050_000, "100M"),
    ],
)
def test_formatter_mimics_x(n: int, shown: str) -> None:
    assert format_x_count(n) == shown


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_inverts_display_within_rounding(n: int) -> None:
    parsed = parse_x_count(format_x_count(n))
    assert parsed is not None
    assert parsed <= n < parsed + resolution(n)
    assert format_x_count(parsed) == format_x_count(n)  # the parsed value displays identically


@given(st.integers(min_value=0, max_value=10**7))
def test_labels_are_exact(n: int) -> None:
    assert parse_labelled_count(format_x_label(n, "Like", "Likes") + ". Like") == n


@given(st.text(max_size=12))
def test_never_crashes_other_than_parse_error(text: str) -> None:
    try:
        value = parse_x_count(text)
    except ParseError as exc:
        assert exc.raw == text
    else:
        assert value is None or value >= 0


@pytest.mark.parametrize(
    ("label", "count"),
    [
        ("1,234 Likes. Like", 1234),
        ("1 Repost. Repost", 1),
        ("Like", 0),  # X's label at zero: a bare action word
        ("Repost", 0),
        ("View post analytics", 0),
        (None, None),  # no button at all: unknown
        ("", None),
        ("— Likes. Like", None),
    ],
)
def test_action_labels(label: str | None, count: int | None) -> None:
    assert parse_action_count(label) == count
