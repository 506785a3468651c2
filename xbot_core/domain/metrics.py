"""Per-post engagement metrics exactly as DESIGN.md defines them, as scalars and as Polars expressions.

Every metric is undefined (None / null) when impressions is 0 or unknown, or when its numerator is unknown:
a missing metric is never read as 0.
"""

from __future__ import annotations

import math

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


def er_expr(
    likes: str = "likes",
    retweets: str = "retweets",
    replies: str = "replies",
    impressions: str = "impressions",
) -> pl.Expr:
    total = (
        pl.col(likes).cast(pl.Float64) + pl.col(retweets).cast(pl.Float64) + pl.col(replies).cast(pl.Float64)
    )
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
