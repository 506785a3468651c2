"""The daily report's numbers: followers, FPKI, reply uplift, novelty, top posts, engagement, budget, learning
status.

"7d" means the `days` UTC days ending with the report date; uplifts compare them with the `days` before.
Ratio metrics are pooled (domain.metrics: FPKI = 1000·Σfollows/Σimpressions), never means of per-post ratios;
/api/growth uses the same definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import polars as pl

from xbot_core.domain.completeness import incomplete_share
from xbot_core.domain.metrics import pooled_er_expr, pooled_fpki_expr, pooled_reply_rate_expr
from xbot_core.domain.reward import RewardVersion, weighted_reward_expr
from xbot_core.services.read import analytics
from xbot_core.services.read.analytics import Source, Window


@dataclass(frozen=True)
class DailyReport:
    """Everything the daily notebook shows, computed once."""

    day: date
    days: int
    source: Source
    version: RewardVersion
    kpis: pl.DataFrame
    daily: pl.DataFrame
    followers: pl.DataFrame
    top_posts: pl.DataFrame
    engagement: pl.DataFrame
    budget: pl.DataFrame
    learning: pl.DataFrame
    arms: pl.DataFrame
    maturity: pl.DataFrame = field(default_factory=pl.DataFrame)


def load_posts(source: Source, window: Window, version: RewardVersion) -> pl.DataFrame:
    """Published posts in the window with their latest outcome, scored under `version`."""
    decisions = analytics.load(source, "decisions", **window.params)
    outcomes = analytics.load(source, "outcomes", **window.params)
    return analytics.score_posts(analytics.duck("posts", decisions=decisions, outcomes=outcomes), version)


def _followers_at(snapshots: pl.DataFrame, moment) -> int | None:  # type: ignore[no-untyped-def]
    before = snapshots.filter(pl.col("taken_at") < moment)
    return None if before.is_empty() else int(before.sort("taken_at")["followers"][-1])


def _sums(posts: pl.DataFrame) -> dict[str, float | None]:
    """Totals for people to read, and the pooled rates (domain.metrics) of the posts."""
    rates = posts.select(pooled_er_expr(), pooled_fpki_expr(), pooled_reply_rate_expr()).row(0, named=True)
    measured = posts.filter(pl.col("impressions").is_not_null())
    if measured.is_empty():
        return dict.fromkeys(("impressions", "follows", "engagements"), None) | rates
    return {
        "impressions": float(measured["impressions"].sum()),
        "follows": float(measured["follows"].sum()),
        "engagements": float((measured["likes"] + measured["retweets"] + measured["replies"]).sum()),
    } | rates


def _uplift(now: float | None, before: float | None) -> float | None:
    return None if now is None or not before else now / before - 1.0


def build(source: Source, day: date, *, days: int = 7) -> DailyReport:
    """Compute the report for `day` (UTC) over the `days` days ending with it."""
    version = analytics.active_reward_version(source)
    window = Window.days_ending(day, days)
    both = Window(since=window.since - timedelta(days=days), until=window.until)
    posts_all = load_posts(source, both, version)
    posts = posts_all.filter(pl.col("posted_at") >= window.since)
    previous = posts_all.filter(pl.col("posted_at") < window.since)
    today = posts.filter(pl.col("posted_at") >= window.until - timedelta(days=1))
    snapshots = analytics.load(source, "follower_snapshots", **window.params)
    # passes lacking a reward metric (learning left them out): their share is a data-quality KPI
    gaps = analytics.load(source, "outcome_completeness", **window.params).row(0, named=True)
    maturity = pl.DataFrame(
        [maturity_row("today", today), maturity_row(f"last {days} days", posts)], infer_schema_length=None
    )
    return DailyReport(
        day=day,
        days=days,
        source=source,
        version=version,
        kpis=kpi_frame(
            posts, previous, snapshots, window, gaps, days=days, provisional=bool(maturity["maturing"].sum())
        ),
        daily=daily_frame(posts),
        followers=snapshots,
        top_posts=analytics.duck("top_posts", posts=today if not today.is_empty() else posts),
        engagement=engagement_summary(today, posts, days),
        budget=analytics.load(source, "llm_budget", since=window.since.date(), until=window.until.date()),
        learning=analytics.load(source, "training_runs", until=window.until).tail(days),
        arms=analytics.duck("arms", posts=mature_posts(posts)),
        maturity=maturity,
    )


def kpi_frame(
    posts: pl.DataFrame,
    previous: pl.DataFrame,
    snapshots: pl.DataFrame,
    window: Window,
    gaps: dict,
    *,
    days: int,
    provisional: bool,
) -> pl.DataFrame:
    """The KPI table: followers from snapshots; FPKI, reply rate and its uplift over the previous window
    from mature posts only (T+24h stored: a post with only its T+1h pass would pull them down), marked
    provisional while posts mature; novelty from the text; post and incomplete-pass counts."""
    now_s, prev_s = _sums(mature_posts(posts)), _sums(mature_posts(previous))
    end = _followers_at(snapshots, window.until)
    start_day = _followers_at(snapshots, window.until - timedelta(days=1))
    start_window = _followers_at(snapshots, window.since)
    reply_now, reply_before = now_s["reply_rate"], prev_s["reply_rate"]
    rows: list[tuple[str, object, bool]] = [
        ("followers", None if end is None else float(end), False),
        (
            "followers gained today",
            None if end is None or start_day is None else float(end - start_day),
            False,
        ),
        (
            f"followers gained {days}d",
            None if end is None or start_window is None else float(end - start_window),
            False,
        ),
        (f"FPKI {days}d", now_s["fpki"], provisional),
        (f"reply rate {days}d", reply_now, provisional),
        (f"reply uplift {days}d vs previous {days}d", _uplift(reply_now, reply_before), provisional),
        (f"novelty {days}d", posts["novelty"].mean() if posts.height else None, False),  # final at posting
        (f"posts {days}d", float(posts.height), False),
        (f"incomplete passes {days}d", float(gaps["incomplete"]), False),
        (f"incomplete share {days}d", incomplete_share(int(gaps["incomplete"]), int(gaps["passes"])), False),
    ]
    return pl.DataFrame(
        rows, schema={"metric": pl.String, "value": pl.Float64, "provisional": pl.Boolean}, orient="row"
    )


MATURE_PASS = 2


def mature_posts(posts: pl.DataFrame) -> pl.DataFrame:
    """Posts whose T+24h pass is stored: the only ones the report's rates and engagement sums use."""
    return posts.filter(pl.col("collected_pass") == MATURE_PASS)


def daily_frame(posts: pl.DataFrame) -> pl.DataFrame:
    """Per UTC day: `posts` (all of the day's, final at posting) and mean `novelty` (from the text); then from
    the day's mature posts only, `posts_mature`, the pooled FPKI, ER and reply rate (domain.metrics) and the
    exposure-weighted reward. A day with no mature post has None there (unknown, never 0)."""
    day = pl.col("posted_at").dt.date().alias("day")
    every = posts.group_by(day).agg(pl.len().alias("posts"), pl.col("novelty").mean())
    mature = (
        mature_posts(posts)
        .group_by(day)
        .agg(
            pl.len().alias("posts_mature"),
            pooled_fpki_expr(),
            pooled_er_expr(),
            pooled_reply_rate_expr(),
            weighted_reward_expr(),
        )
    )
    return (
        every.join(mature, on="day", how="left")
        .with_columns(pl.col("posts_mature").fill_null(0))
        .select("day", "posts", "posts_mature", "fpki", "er", "reply_rate", "novelty", "weighted_reward")
        .sort("day")
    )


def maturity_row(label: str, posts: pl.DataFrame) -> dict[str, object]:
    """How many of the posts have their T+24h pass stored; the others' figures are provisional (T+1h)."""
    pending = posts.filter(pl.col("collected_pass").is_null() | (pl.col("collected_pass") < MATURE_PASS))
    latest = pending["posted_at"].max() if pending.height else None
    return {
        "period": label,
        "posts": posts.height,
        "mature": posts.height - pending.height,
        "maturing": pending.height,
        "mature_by": latest + timedelta(hours=24) if isinstance(latest, datetime) else None,
    }


def default_day(source: Source, report_date: str) -> date:
    """The parameter when given; else the day of the account's latest post (today when it has none), so
    the notebook opened after the demo shows the demo's data."""
    return analytics.report_day(source, report_date)


def engagement_summary(today: pl.DataFrame, window: pl.DataFrame, days: int) -> pl.DataFrame:
    """Totals and ratio metrics of the day next to the window's, from their mature posts only."""

    def row(label: str, posts: pl.DataFrame) -> dict[str, object]:
        p = mature_posts(posts)
        s = _sums(p)
        return {
            "period": label,
            "posts": posts.height,
            "mature": p.height,
            "impressions": s["impressions"],
            "engagements": s["engagements"],
            "follows": s["follows"],
            "ER": s["er"],
            "FPKI": s["fpki"],
            "reply rate": s["reply_rate"],
            "weighted reward": p.select(weighted_reward_expr()).item() if p.height else None,
        }

    return pl.DataFrame([row("today", today), row(f"last {days} days", window)], infer_schema_length=None)


def budget_today(report: DailyReport) -> pl.DataFrame:
    """The LLM budget of the report date (the budget is per workspace, not per account)."""
    return report.budget.filter(pl.col("budget_day") == report.day)
