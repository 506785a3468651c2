"""Per-post engagement metrics exactly as DESIGN.md defines them, as scalars and as Polars expressions.

Every metric is undefined (None / null) when impressions is 0 or unknown, or when its numerator is unknown:
a missing metric is never read as 0.

Over several posts a rate is pooled, a ratio of sums (FPKI = 1000·Σfollows/Σimpressions), never a mean of
per-post ratios: the sums run over the posts whose own rate is defined, so a post with an unknown count adds
neither events nor impressions. The daily report and the API's /api/growth both use these.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import polars as pl

FPKI_PER = 1000.0  # FPKI counts follows per thousand impressions

# What X counts on a post besides its reach and the follows it brought: the parts of X's "engagements"
ENGAGEMENT_COUNTS: tuple[str, ...] = (
    "likes",
    "retweets",
    "replies",
    "quotes",
    "bookmarks",
    "profile_visits",
    "link_clicks",
)
# Every count of a post, as outcomes stores them (in its column order); X's pages call the last new_follows
COUNT_METRICS: tuple[str, ...] = ("impressions", *ENGAGEMENT_COUNTS, "follows")


def _rate(numerator: float | None, impressions: float | None, per: float = 1.0) -> float | None:
    if numerator is None or impressions is None or impressions <= 0:
        return None
    return (per * float(numerator)) / float(impressions)


def er(
    likes: float | None, retweets: float | None, replies: float | None, impressions: float | None
) -> float | None:
    """Engagement rate (likes + retweets + replies) / impressions."""
    if likes is None or retweets is None or replies is None:
        return None
    return _rate(float(likes) + float(retweets) + float(replies), impressions)


def fpki(follows: float | None, impressions: float | None) -> float | None:
    """Follows per thousand impressions: 1000 · follows / impressions."""
    return _rate(follows, impressions, FPKI_PER)


def retweet_rate(retweets: float | None, impressions: float | None) -> float | None:
    """retweets / impressions."""
    return _rate(retweets, impressions)


def reply_rate(replies: float | None, impressions: float | None) -> float | None:
    """replies / impressions."""
    return _rate(replies, impressions)


def exposure_weight(impressions: float | None, cap: float) -> float | None:
    """min(1, impressions / cap): how much one post counts in an aggregate; None when reach is unknown."""
    if not (cap > 0 and math.isfinite(cap)):
        raise ValueError(f"exposure cap must be a positive finite number, got {cap!r}")
    if impressions is None:
        return None
    return min(1.0, float(impressions) / cap)


# ---- the same definitions as Polars expressions (null where the scalar returns None) ----


def _rate_expr(numerator: pl.Expr, impressions: pl.Expr, per: float = 1.0) -> pl.Expr:
    imp = impressions.cast(pl.Float64)
    return pl.when(imp > 0).then((per * numerator.cast(pl.Float64)) / imp).otherwise(None)


def _engagements_expr(likes: str, retweets: str, replies: str) -> pl.Expr:
    """likes + retweets + replies as floats (null when any is null): ER's numerator."""
    f64 = pl.Float64
    return pl.col(likes).cast(f64) + pl.col(retweets).cast(f64) + pl.col(replies).cast(f64)


def er_expr(
    likes: str = "likes",
    retweets: str = "retweets",
    replies: str = "replies",
    impressions: str = "impressions",
) -> pl.Expr:
    total = _engagements_expr(likes, retweets, replies)
    return _rate_expr(total, pl.col(impressions)).alias("er")


def fpki_expr(follows: str = "follows", impressions: str = "impressions") -> pl.Expr:
    return _rate_expr(pl.col(follows), pl.col(impressions), FPKI_PER).alias("fpki")


def retweet_rate_expr(retweets: str = "retweets", impressions: str = "impressions") -> pl.Expr:
    return _rate_expr(pl.col(retweets), pl.col(impressions)).alias("retweet_rate")


def reply_rate_expr(replies: str = "replies", impressions: str = "impressions") -> pl.Expr:
    return _rate_expr(pl.col(replies), pl.col(impressions)).alias("reply_rate")


def exposure_weight_expr(cap: float, impressions: str = "impressions") -> pl.Expr:
    if not (cap > 0 and math.isfinite(cap)):
        raise ValueError(f"exposure cap must be a positive finite number, got {cap!r}")
    return (pl.col(impressions).cast(pl.Float64) / cap).clip(upper_bound=1.0).alias("exposure_weight")


# ---- pooled over posts: Σevents / Σimpressions over the posts whose own rate is defined ----


def pooled_rate(
    events: Iterable[float | None], impressions: Iterable[float | None], per: float = 1.0
) -> float | None:
    """per · Σevents / Σimpressions over the posts with both known and impressions > 0; None when none."""
    num = den = 0.0
    for e, i in zip(events, impressions, strict=True):
        if e is not None and i is not None and i > 0:
            num, den = num + float(e), den + float(i)
    return per * num / den if den > 0 else None


def pooled_fpki(follows: Iterable[float | None], impressions: Iterable[float | None]) -> float | None:
    """Follows per thousand impressions over several posts: 1000 · Σfollows / Σimpressions."""
    return pooled_rate(follows, impressions, FPKI_PER)


def pooled_reply_rate(replies: Iterable[float | None], impressions: Iterable[float | None]) -> float | None:
    """Σreplies / Σimpressions."""
    return pooled_rate(replies, impressions)


def pooled_er(
    likes: Iterable[float | None],
    retweets: Iterable[float | None],
    replies: Iterable[float | None],
    impressions: Iterable[float | None],
) -> float | None:
    """Σ(likes + retweets + replies) / Σimpressions; a post missing any of the three counts is left out."""
    engagements = [
        None if a is None or b is None or c is None else float(a) + float(b) + float(c)
        for a, b, c in zip(likes, retweets, replies, strict=True)
    ]
    return pooled_rate(engagements, impressions)


def _pooled_expr(numerator: pl.Expr, impressions: pl.Expr, per: float = 1.0) -> pl.Expr:
    num, imp = numerator.cast(pl.Float64), impressions.cast(pl.Float64)
    defined = num.is_not_null() & (imp > 0)
    den = imp.filter(defined).sum()
    return pl.when(den > 0).then(per * num.filter(defined).sum() / den).otherwise(None)


def pooled_fpki_expr(follows: str = "follows", impressions: str = "impressions") -> pl.Expr:
    """Aggregate: pooled_fpki over the frame's (or group's) rows."""
    return _pooled_expr(pl.col(follows), pl.col(impressions), FPKI_PER).alias("fpki")


def pooled_reply_rate_expr(replies: str = "replies", impressions: str = "impressions") -> pl.Expr:
    """Aggregate: pooled_reply_rate over the rows."""
    return _pooled_expr(pl.col(replies), pl.col(impressions)).alias("reply_rate")


def pooled_er_expr(
    likes: str = "likes",
    retweets: str = "retweets",
    replies: str = "replies",
    impressions: str = "impressions",
) -> pl.Expr:
    """Aggregate: pooled_er over the rows (a row missing any count is left out, as in er_expr)."""
    total = _engagements_expr(likes, retweets, replies)
    return _pooled_expr(total, pl.col(impressions)).alias("er")
