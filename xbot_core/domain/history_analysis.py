"""What drove follows, profile visits and engagement in an account's own imported posts: per feature level,
ratio metrics pooled over impressions (Σevents / Σimpressions, delta-method CI), each level against the rest
of the posts (relative lift, Welch p-value), Benjamini–Hochberg across the whole table.

A level with too few posts or events gets the status "not enough data" and no rate, lift or p-value, so a
table never ranks noise. Pure: frames in, frames out; the stats come from domain.stats.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from scipy import special
from scipy import stats as sps

from xbot_core.domain.history_arms import UNKNOWN, history_arms
from xbot_core.domain.stats import RatioStats, benjamini_hochberg, compare
from xbot_core.domain.text import content_hash

STATUS_OK = "ok"
STATUS_NOT_ENOUGH_DATA = "not_enough_data"
NOT_ENOUGH_DATA_MESSAGE = "not enough data: too few posts or events to compare"

FEATURES: tuple[str, ...] = (
    "content_type",
    "hook_pattern",
    "timing_slot",
    "weekday",
    "length_bucket",
    "has_link",
    "thread",
    "post_kind",
)
# metric -> (numerator columns summed, scale): rates per impression, follows per 1,000 impressions
METRICS: dict[str, tuple[tuple[str, ...], float]] = {
    "follows_per_1k": (("follows",), 1000.0),
    "profile_visit_rate": (("profile_visits",), 1.0),
    "engagement_rate": (("likes", "reposts", "replies"), 1.0),
}
LENGTH_BUCKETS: tuple[tuple[int, str], ...] = ((80, "short"), (160, "medium"), (281, "long"))


@dataclass(frozen=True)
class HistoryAnalysisConfig:
    """Thresholds below which a level is "not enough data", and the CI level."""

    min_posts: int = 10  # in the level and in the rest
    min_events: int = (
        5  # numerator events in the level and in the rest (the usual ≥ 5 for a normal approximation)
    )
    alpha: float = 0.05


def length_bucket(text: str) -> str:
    n = len(text)
    for limit, name in LENGTH_BUCKETS:
        if n < limit:
            return name
    return "very_long"


def post_features(
    text: str, posted_at: datetime, time_known: bool, is_reply: bool, tz: str
) -> dict[str, str]:
    """The features of one post (strings, `unknown` where the data cannot tell)."""
    arms = history_arms(text, posted_at, time_known, tz)
    weekday = posted_at.astimezone(ZoneInfo(tz)).strftime("%a") if time_known else UNKNOWN
    return {
        "content_type": arms.content_type,
        "hook_pattern": arms.hook_pattern,
        "timing_slot": arms.timing_slot,
        "weekday": weekday,
        "length_bucket": length_bucket(text),
        "has_link": "link" if "http" in text else "no_link",
        "thread": "thread" if arms.is_thread else "single",
        "post_kind": "reply" if is_reply else "original",
    }


LABELLED_BY_LLM = "llm"
LABELLED_BY_RULES = "rules"


def with_features(posts: pl.DataFrame, tz: str, llm_labels: Mapping[str, str] | None = None) -> pl.DataFrame:
    """Add the FEATURES columns to a frame of posts (text, posted_at, time_known, is_reply); the post's own
    columns keep their names and types. `llm_labels` ({content_hash(text): content type}, the cached
    `--classify llm` answers in the catalog) give an original post its content type where they have its
    text; the rules label the rest. `content_type_by` (llm or rules) and `rules_content_type` say which
    labeller spoke and what the rules would have said."""
    labels = llm_labels or {}
    rows, by, rules = [], [], []
    for t, p, k, r in posts.select("text", "posted_at", "time_known", "is_reply").iter_rows():
        f = post_features(t, p, k, r, tz)
        rules.append(f["content_type"])
        llm = labels.get(content_hash(t)) if labels and not r else None
        if llm is not None:
            f["content_type"] = llm
        by.append(LABELLED_BY_RULES if llm is None else LABELLED_BY_LLM)
        rows.append(f)
    return posts.with_columns(
        *pl.DataFrame(rows, schema=dict.fromkeys(FEATURES, pl.String)).get_columns(),
        pl.Series("content_type_by", by, dtype=pl.String),
        pl.Series("rules_content_type", rules, dtype=pl.String),
    )


@dataclass(frozen=True)
class Labeller:
    """Who labelled the content types of the original posts: `llm`, `rules` or `mixed`, with the counts."""

    kind: str
    llm: int
    rules: int


def content_labeller(posts: pl.DataFrame) -> Labeller:
    """The labeller of the original posts' content types (a with_features frame; replies carry no arms)."""
    originals = posts.filter(~pl.col("is_reply"))
    llm = int((originals["content_type_by"] == LABELLED_BY_LLM).sum())
    rules = originals.height - llm
    kind = LABELLED_BY_LLM if llm and not rules else LABELLED_BY_RULES if not llm else "mixed"
    return Labeller(kind, llm, rules)


def ratio_stats(events: np.ndarray, impressions: np.ndarray) -> RatioStats:
    return RatioStats(
        n=int(events.size),
        numerator_sum=float(events.sum()),
        numerator_sum_squares=float((events**2).sum()),
        denominator_sum=float(impressions.sum()),
        denominator_sum_squares=float((impressions**2).sum()),
        cross_sum=float((events * impressions).sum()),
    )


def _row(
    feature: str,
    level: str,
    metric: str,
    scale: float,
    y: np.ndarray,
    x: np.ndarray,
    mask: np.ndarray,
    cfg: HistoryAnalysisConfig,
) -> dict[str, object]:
    inside, rest = ratio_stats(y[mask], x[mask]), ratio_stats(y[~mask], x[~mask])
    row: dict[str, object] = {
        "feature": feature,
        "level": level,
        "metric": metric,
        "posts": inside.n,
        "impressions": inside.denominator_sum,
        "events": inside.numerator_sum,
    }
    enough = (
        min(inside.n, rest.n) >= cfg.min_posts
        and min(inside.numerator_sum, rest.numerator_sum) >= cfg.min_events
        and inside.denominator_sum > 0
        and rest.denominator_sum > 0
    )
    cmp = compare(rest, inside, cfg.alpha) if enough else None
    if cmp is None or not cmp.ok:
        nan = math.nan
        return {
            **row,
            "rate": nan,
            "ci_low": nan,
            "ci_high": nan,
            "lift_vs_rest": nan,
            "p_value": nan,
            "status": STATUS_NOT_ENOUGH_DATA,
            "message": NOT_ENOUGH_DATA_MESSAGE,
        }
    z = float(special.ndtri(1 - cfg.alpha / 2))
    half = z * math.sqrt(inside.variance / inside.n)
    return {
        **row,
        "rate": scale * inside.mean,
        "ci_low": scale * (inside.mean - half),
        "ci_high": scale * (inside.mean + half),
        "lift_vs_rest": cmp.lift,
        "p_value": cmp.p_value,
        "status": STATUS_OK,
        "message": "",
    }


def history_table(
    posts: pl.DataFrame, cfg: HistoryAnalysisConfig | None = None, features: tuple[str, ...] = FEATURES
) -> pl.DataFrame:
    """One row per (feature, level, metric) with its pooled rate, CI, lift against the rest, p-value and the
    BH-adjusted q-value across every row of the table that has enough data."""
    cfg = cfg or HistoryAnalysisConfig()
    x = posts["impressions"].cast(pl.Float64).to_numpy()
    rows: list[dict[str, object]] = []
    for metric, (columns, scale) in METRICS.items():
        total = pl.col(columns[0])
        for c in columns[1:]:
            total = total + pl.col(c)  # NULL stays NULL: a post missing any part is left out
        y = posts.select(total.cast(pl.Float64)).to_series().to_numpy()
        known = ~np.isnan(y) & ~np.isnan(x) & (x > 0)
        for feature in features:
            levels = posts[feature].to_numpy()
            for level in sorted({str(v) for v in levels[known]}):
                rows.append(
                    _row(feature, level, metric, scale, y[known], x[known], levels[known] == level, cfg)
                )
    table = pl.DataFrame(rows, infer_schema_length=None)
    if table.height == 0:
        return table
    q = benjamini_hochberg(table["p_value"].to_numpy())
    return table.with_columns(pl.Series("q_value", q))


def trend(posts: pl.DataFrame, every: str = "1mo") -> pl.DataFrame:
    """Per period (Polars duration, e.g. 1w, 1mo) of posted_at: posts, impressions per post, and the pooled
    rates (events summed over the period's posts with that metric, divided by their impressions)."""
    if posts.height == 0:
        return pl.DataFrame()
    aggs: list[pl.Expr] = [pl.len().alias("posts"), pl.col("impressions").sum().alias("impressions")]
    for metric, (columns, scale) in METRICS.items():
        total = pl.col(columns[0])
        for c in columns[1:]:
            total = total + pl.col(c)
        has = total.is_not_null() & (pl.col("impressions") > 0)
        denominator = pl.col("impressions").filter(has).sum()
        aggs.append(
            pl.when(denominator > 0)
            .then(scale * total.filter(has).sum() / denominator)
            .otherwise(None)
            .alias(metric)
        )
    return (
        posts.sort("posted_at")
        .group_by_dynamic("posted_at", every=every)
        .agg(aggs)
        .with_columns((pl.col("impressions") / pl.col("posts")).alias("impressions_per_post"))
        .rename({"posted_at": "period"})
    )


def read_growth(reads: pl.DataFrame) -> pl.DataFrame:
    """Posts read more than once (reads: tweet_id, as_of, impressions, follows): first and latest read and
    the growth in between, largest first."""
    if reads.height == 0:
        return pl.DataFrame()
    return (
        reads.sort("as_of")
        .group_by("tweet_id")
        .agg(
            pl.len().alias("reads"),
            pl.col("as_of").first().alias("first_as_of"),
            pl.col("as_of").last().alias("latest_as_of"),
            pl.col("impressions").first().alias("first_impressions"),
            pl.col("impressions").last().alias("latest_impressions"),
        )
        .filter(pl.col("reads") > 1)
        .with_columns(
            (pl.col("latest_impressions") - pl.col("first_impressions")).alias("impressions_growth")
        )
        .sort("impressions_growth", descending=True)
    )


SURROGATES: tuple[str, ...] = ("profile_visits", "likes")


def surrogates(posts: pl.DataFrame, min_posts: int = 20, min_follows: int = 5) -> pl.DataFrame:
    """How well each surrogate's per-post count predicts follows across posts: Spearman rank correlation of
    the counts per impression (posts with impressions > 0 and both values known); None below min_posts or
    min_follows (one follow ranks nothing) or when follows never vary."""
    rows: list[dict[str, object]] = []
    for name in SURROGATES:
        known = posts.filter(
            pl.col("follows").is_not_null() & pl.col(name).is_not_null() & (pl.col("impressions") > 0)
        )
        x = (known[name] / known["impressions"]).to_numpy()
        y = (known["follows"] / known["impressions"]).to_numpy()
        rho: float | None = None
        enough = known.height >= min_posts and (known["follows"].sum() or 0) >= min_follows
        if enough and np.ptp(y) > 0 and np.ptp(x) > 0:
            rho = float(sps.spearmanr(x, y).statistic)
        rows.append({"surrogate": name, "posts": known.height, "spearman_rho": rho})
    return pl.DataFrame(rows, schema={"surrogate": pl.String, "posts": pl.Int64, "spearman_rho": pl.Float64})
