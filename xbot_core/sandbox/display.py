"""How X displays counts, mimicked by the sandbox: "987", "1,234", "12.3K", "123K", "1.2M".

Kept apart from the adapter's parser on purpose: the parser is property-tested against this formatter.
X truncates rather than rounds ("12,399" shows as "12.3K"), and drops a trailing ".0" ("12K").
"""

from __future__ import annotations

_UNITS: tuple[tuple[int, str], ...] = ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K"))


def format_x_count(n: int) -> str:
    """The text X shows for a count: exact with thousands separators below 10,000, abbreviated above."""
    if n < 0:
        raise ValueError(f"counts are never negative: {n}")
    if n < 10_000:
        return f"{n:,}"
    for size, suffix in _UNITS:
        if n >= size:
            whole = n // size
            if whole >= 100:
                return f"{whole}{suffix}"
            tenths = (n * 10 // size) % 10
            return f"{whole}{suffix}" if tenths == 0 else f"{whole}.{tenths}{suffix}"
    raise AssertionError("unreachable: n >= 10_000 always has a unit")


def format_x_label(n: int, singular: str, plural: str) -> str:
    """aria-label style text such as "1,234 Likes" or "1 Like" (exact, grouped with commas)."""
    return f"{n:,} {singular if n == 1 else plural}"
