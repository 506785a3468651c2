"""Parse counts as X displays them ("987", "1,234", "12.3K", "1.2M", "—") into integers.

A pure function so it can be property-tested; anything unparseable raises ParseError carrying the raw text.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from xbot_core.errors import ParseError

_MISSING = {"", "—", "–", "-"}
_MULTIPLIER = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
_COUNT = re.compile(r"^(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?P<unit>[KMB]?)$", re.IGNORECASE)
_LEADING = re.compile(r"^\s*(?P<count>[\d.,]+\s*[KMB]?)(?=\s|$|\.)", re.IGNORECASE)


def parse_x_count(text: str | None) -> int | None:
    """'12.3K' -> 12300, '1,234' -> 1234; empty or a dash -> None (missing, never 0)."""
    if text is None:
        return None
    raw = text
    cleaned = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    if cleaned in _MISSING:
        return None
    match = _COUNT.match(cleaned)
    if match is None:
        raise ParseError("not an X count", raw)
    number, unit = match.group("num"), match.group("unit").upper()
    if "," in number and unit:
        raise ParseError("abbreviated count with thousands separators", raw)
    if "." in number and not unit:
        raise ParseError("fractional count without a K/M/B unit", raw)
    try:
        value = Decimal(number.replace(",", "")) * _MULTIPLIER[unit]
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise ParseError("not an X count", raw) from exc
    if value != value.to_integral_value():
        raise ParseError("count is not a whole number", raw)
    return int(value)


def parse_labelled_count(text: str | None) -> int | None:
    """The leading count of a label such as '1,234 Likes. Like' or '12.3K Followers'; None if it has none."""
    if text is None:
        return None
    match = _LEADING.match(text)
    if match is None:
        stripped = text.strip()
        if stripped == "" or stripped.split()[0] in _MISSING:
            return None
        if stripped[0].isdigit():
            raise ParseError("label starts with an unparseable count", text)
        return None
    return parse_x_count(match.group("count"))


def parse_action_count(text: str | None) -> int | None:
    """An action's aria-label: '1,234 Likes. Like' -> 1234; X's bare 'Like' / 'Repost' (a zero count) -> 0.

    No label at all (None), or a missing-value marker, stays None: only a label X shows without a number is 0.
    """
    count = parse_labelled_count(text)
    if count is not None or text is None:
        return count
    stripped = text.strip()
    if not stripped or stripped.split()[0] in _MISSING or any(ch.isdigit() for ch in stripped):
        return None
    return 0
