"""Read model of the observability API: learning status, growth and operational metrics from Postgres.

Every figure is computed at request time by one or two named queries (sql/queries/status.sql); nothing is held
in memory. Real and simulated data are never mixed: each call selects one dataset with `simulated`.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, Field
from scipy.stats import beta as beta_dist

from xbot_core.adapters.db.migrations import current_version
from xbot_core.adapters.db.queries import query
from xbot_core.adapters.db.repositories import KILL_SWITCH
from xbot_core.domain import metrics
from xbot_core.domain.completeness import incomplete_share

CREDIBLE_LEVEL = 0.95
POST_STATUSES = ("queued", "posting", "posted", "failed", "skipped")
LLM_STATUSES = ("reserved", "succeeded", "failed", "quota_exceeded", "budget_exceeded", "circuit_open")
MAX_ERRORS = 20

# ---- response records (field names are the API's) ----


class Arm(BaseModel):
    name: str
    scope: str
    successes: float
    failures: float
    mean_reward: float | None = Field(
        description="sum_reward / pulls: mean observed reward; null with no pulls."
    )
    posterior_mean: float = Field(description="alpha / (alpha + beta) of the arm's Beta posterior.")
    ci_width: float = Field(description="Width of the central 95 % credible interval of Beta(alpha, beta).")
    sample_count: int = Field(description="pulls: outcomes that updated this arm.")
    last_updated: datetime


class TrainingRun(BaseModel):
    run_id: int
    status: str
    reward_version: int | None
    outcomes_used: int
    arms_trained: int
    explore_ratio: float | None
    message: str | None
    ran_at: datetime


class ArmDriftAlarm(BaseModel):
    scope: str
    arm: str
    n_recent: int = Field(description="Outcomes of the arm in the recent period.")
    n_before: int = Field(description="Outcomes of the arm before it.")
    mean_recent: float = Field(description="Mean reward of the arm in the recent period.")
    mean_before: float = Field(description="Mean reward of the arm before it.")
    z: float | None = Field(
        description="Welch's z of mean_recent − mean_before; null when infinite (both periods constant)."
    )


class DriftAlarm(BaseModel):
    runId: int = Field(description="The trained run that checked (the latest `trained` run).")
    raised: bool = Field(description="Whether any arm's reward moved: |z| ≥ zAlarm with enough outcomes.")
    recentDays: int = Field(description="The recent period in days (XBOT_DRIFT_RECENT_DAYS when it ran).")
    minPosts: int = Field(description="Fewest outcomes per arm and period (XBOT_DRIFT_MIN_POSTS).")
    zAlarm: float = Field(description="The |z| that raises the alarm (XBOT_DRIFT_Z_ALARM).")
    arms: list[ArmDriftAlarm] = Field(description="Every arm that raised it; empty when none did.")


class BudgetStatus(BaseModel):
    day: date = Field(description="The budget day (XBOT_LLM_BUDGET_TIMEZONE).")
    dailyLimit: float = Field(description="USD; the day's stored limit, else XBOT_LLM_DAILY_BUDGET_USD.")
    used: float = Field(description="USD settled from actual usage.")
    reserved: float = Field(description="USD reserved by calls in flight.")
    remaining: float = Field(description="max(0, dailyLimit - used - reserved).")
    circuitOpen: bool


class LearningStatus(BaseModel):
    simulated: bool
    predictorVersion: int | None = Field(
        description="Reward version of the latest `trained` training run: the version the posteriors follow."
    )
    activeRewardVersion: int | None
    exploreRate: float | None = Field(
        description="explore_ratio of the latest training run; null with no run."
    )
    arms: list[Arm]
    totalOutcomes: int = Field(description="Decisions with an ok outcome, real and simulated together.")
    realOutcomes: int = Field(
        description="Decisions with an ok real (non-simulated) outcome: the learning gate."
    )
    incompletePasses: int = Field(
        description="Collected (ok) passes of this dataset lacking a metric the reward version needed when "
        "they were stored (outcomes.missing_metrics); learning leaves them out."
    )
    incompleteShare: float | None = Field(
        description="incompletePasses / collected (ok) passes of this dataset; null with none collected."
    )
    lastTrainingRun: TrainingRun | None
    driftAlarm: DriftAlarm | None = Field(
        description="The drift check of the latest `trained` run (the one the posteriors follow): has an "
        "arm's mean reward over the recent days moved away from before? Null when no trained run has "
        "checked (none yet, or recorded before migration 0011)."
    )
    budgetStatus: BudgetStatus


class TopPost(BaseModel):
    tweet_id: str
    content: str | None
    follows: float
    impressions: int | None
    fpki: float | None
    er: float | None
    reward_composite: float | None


class EngagementSummary(BaseModel):
    total_posts_7d: int = Field(description="Posts published in (as_of-7d, as_of], mature or not.")
    mature_posts_7d: int = Field(
        description="Of those, posts whose T+24h pass is stored (ok, collected by as_of): every rate, "
        "average and top post of this response is computed from mature posts only."
    )
    maturing_posts_7d: int = Field(
        description="Of those, posts with no T+24h pass yet: the 7-day figures are provisional while this is "
        "above 0 (they will change when these posts mature)."
    )
    total_impressions_7d: int | None = Field(
        description="Sum over mature posts with known impressions; null if none."
    )
    avg_er_7d: float | None = Field(
        description="ER of the mature posts pooled over impressions: Σ(likes + retweets + replies) / "
        "Σimpressions (the impression-weighted mean of per-post ER, as the daily report computes it); "
        "posts with impressions 0 or a missing count are left out; null when none is left."
    )
    avg_reward_7d: float | None = Field(
        description="Plain mean of the mature posts' stored reward_composite (each under its own reward "
        "version; not exposure-weighted)."
    )


class Growth(BaseModel):
    simulated: bool
    as_of: datetime
    followers_today: int | None = Field(
        description="Latest snapshot at as_of minus the last one at or before the start of as_of's day "
        "(account time zone); null when either is missing."
    )
    followers_7d: int | None = Field(
        description="Latest snapshot at as_of minus the last one at or before as_of - 7 days."
    )
    fpki_avg_7d: float | None = Field(
        description="Follows per 1,000 impressions of the mature posts (T+24h pass stored) published in "
        "(as_of-7d, as_of], pooled: 1000 · Σfollows / Σimpressions over the posts with follows known and "
        "impressions > 0 (the daily report's FPKI, never a mean of per-post FPKI); null when none."
    )
    reply_uplift_7d: float | None = Field(
        description="Relative change of the pooled reply rate (Σreplies / Σimpressions) of the mature "
        "posts published in the last 7 days vs the 7 days before: rate_7d / rate_prev_7d - 1; null when "
        "either rate is unknown or the previous rate is 0."
    )
    novelty_avg_7d: float | None
    top_posts_by_follows: list[TopPost]
    engagement_summary: EngagementSummary


class ErrorCount(BaseModel):
    error: str
    count: int


class OpsMetrics(BaseModel):
    simulated: bool
    posts: dict[str, int] = Field(
        description="Decisions by status (queued, posting, posted, failed, skipped)."
    )
    outcomes_by_pass: dict[str, int] = Field(description="Outcome rows with status ok, by pass ('1', '2').")
    outcomes_unavailable_by_pass: dict[str, int]
    llm_day: date = Field(description="Budget day of the LLM figures (workspace-wide; not split by dataset).")
    llm_calls_today: int
    llm_calls_by_status: dict[str, int]
    llm_cost_usd_today: float
    llm_tokens_today: int
    skip_reasons: dict[str, int]
    posting_errors_total: int = Field(description="Decisions carrying a last_error.")
    posting_errors: list[ErrorCount] = Field(
        description=f"Most frequent last_error texts (top {MAX_ERRORS})."
    )


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when the database cannot be reached.")
    database_reachable: bool
    schema_version: int | None
    mode: str
    kill_switch: bool | None = Field(
        description="Whether posting is stopped; null when the database is down."
    )
    kill_switch_reason: str | None = None
    error: str | None = None


# ---- computations ----


def ci_width(alpha: float, beta: float, level: float = CREDIBLE_LEVEL) -> float:
    """Width of the central `level` credible interval of Beta(alpha, beta)."""
    tail = (1.0 - level) / 2.0
    lo, hi = beta_dist.ppf([tail, 1.0 - tail], alpha, beta)
    return float(hi - lo)


def _f(value: Any) -> float | None:
    """Numbers from Postgres (float, Decimal, int) as finite floats; NaN/inf never reach JSON."""
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def learning_status(
    conn: psycopg.Connection, *, handle: str, simulated: bool, budget_day: date, default_limit_usd: float
) -> LearningStatus:
    """Bandit posteriors, training state, outcome counts and today's LLM budget (two queries)."""
    params = {"handle": handle, "simulated": simulated, "budget_day": budget_day}
    with conn.cursor(row_factory=dict_row) as cur:
        arm_rows = cur.execute(query("status_arms"), params).fetchall()
        s = cur.execute(query("status_learning_summary"), params).fetchone()
    assert s is not None
    arms = [
        Arm(
            name=r["arm"],
            scope=r["scope"],
            successes=r["successes"],
            failures=r["failures"],
            mean_reward=(r["sum_reward"] / r["pulls"]) if r["pulls"] else None,
            posterior_mean=r["alpha"] / (r["alpha"] + r["beta"]),
            ci_width=ci_width(r["alpha"], r["beta"]),
            sample_count=r["pulls"],
            last_updated=r["updated_at"],
        )
        for r in arm_rows
    ]
    run = TrainingRun.model_validate(s["last_run"]) if s["last_run"] else None
    limit = _f(s["limit_usd"]) if s["limit_usd"] is not None else default_limit_usd
    used = _f(s["used_usd"]) or 0.0
    reserved = _f(s["reserved_usd"]) or 0.0
    assert limit is not None
    return LearningStatus(
        simulated=simulated,
        predictorVersion=s["trained_reward_version"],
        activeRewardVersion=s["active_reward_version"],
        exploreRate=run.explore_ratio if run else None,
        arms=arms,
        totalOutcomes=s["total"],
        realOutcomes=s["real"],
        incompletePasses=s["incomplete"],
        incompleteShare=incomplete_share(s["incomplete"], s["passes"]),
        lastTrainingRun=run,
        driftAlarm=_drift_alarm(s["trained_run_id"], s["trained_drift"]),
        budgetStatus=BudgetStatus(
            day=budget_day,
            dailyLimit=limit,
            used=used,
            reserved=reserved,
            remaining=max(0.0, limit - used - reserved),
            circuitOpen=bool(s["circuit_open"]),
        ),
    )


def _drift_alarm(run_id: int | None, drift: dict[str, Any] | None) -> DriftAlarm | None:
    """training_runs.drift of the latest trained run as the API's field (None: that run did not check)."""
    if run_id is None or drift is None:
        return None
    arms = [ArmDriftAlarm.model_validate(a) for a in drift["arms"]]
    return DriftAlarm(
        runId=run_id,
        raised=bool(arms),
        recentDays=drift["recent_days"],
        minPosts=drift["min_posts"],
        zAlarm=drift["z_alarm"],
        arms=arms,
    )


def growth(conn: psycopg.Connection, *, handle: str, simulated: bool, as_of: datetime, limit: int) -> Growth:
    """Follower growth and 7-day engagement at `as_of` (one query)."""
    with conn.cursor(row_factory=dict_row) as cur:
        r = cur.execute(
            query("status_growth"), {"handle": handle, "simulated": simulated, "as_of": as_of, "limit": limit}
        ).fetchone()
    assert r is not None
    # the rates pooled exactly as the daily report pools them (domain.metrics), from the mature posts' counts
    week = [p for p in r["mature_posts"] if p["this_week"]]
    previous = [p for p in r["mature_posts"] if not p["this_week"]]
    now_rate = metrics.pooled_reply_rate(_col(week, "replies"), _col(week, "impressions"))
    prev_rate = metrics.pooled_reply_rate(_col(previous, "replies"), _col(previous, "impressions"))
    uplift = now_rate / prev_rate - 1.0 if now_rate is not None and prev_rate else None
    return Growth(
        simulated=simulated,
        as_of=as_of,
        followers_today=r["followers_today"],
        followers_7d=r["followers_7d"],
        fpki_avg_7d=metrics.pooled_fpki(_col(week, "follows"), _col(week, "impressions")),
        reply_uplift_7d=uplift,
        novelty_avg_7d=_f(r["novelty_avg_7d"]),
        top_posts_by_follows=[TopPost.model_validate(p) for p in r["top_posts"]],
        engagement_summary=EngagementSummary(
            total_posts_7d=r["total_posts_7d"],
            mature_posts_7d=r["mature_posts_7d"],
            maturing_posts_7d=r["maturing_posts_7d"],
            total_impressions_7d=r["total_impressions_7d"],
            avg_er_7d=metrics.pooled_er(
                _col(week, "likes"), _col(week, "retweets"), _col(week, "replies"), _col(week, "impressions")
            ),
            avg_reward_7d=_f(r["avg_reward_7d"]),
        ),
    )


def _col(posts: list[dict[str, Any]], name: str) -> list[float | None]:
    return [p[name] for p in posts]


def ops_metrics(conn: psycopg.Connection, *, handle: str, simulated: bool, budget_day: date) -> OpsMetrics:
    """Posting, collection and LLM counters (one query); every known status is present, 0 when absent."""
    with conn.cursor(row_factory=dict_row) as cur:
        r = cur.execute(
            query("status_ops"),
            {"handle": handle, "simulated": simulated, "budget_day": budget_day, "max_errors": MAX_ERRORS},
        ).fetchone()
    assert r is not None
    outcomes: dict[str, int] = r["outcomes"]
    calls = {s: 0 for s in LLM_STATUSES} | r["llm_calls"]
    return OpsMetrics(
        simulated=simulated,
        posts={s: 0 for s in POST_STATUSES} | r["posts"],
        outcomes_by_pass={p: outcomes.get(f"{p}:ok", 0) for p in ("1", "2")},
        outcomes_unavailable_by_pass={p: outcomes.get(f"{p}:unavailable", 0) for p in ("1", "2")},
        llm_day=budget_day,
        llm_calls_today=sum(calls.values()),
        llm_calls_by_status=calls,
        llm_cost_usd_today=_f(r["llm_cost_usd"]) or 0.0,
        llm_tokens_today=int(r["llm_tokens"]),
        skip_reasons=r["skip_reasons"],
        posting_errors_total=r["posting_errors_total"],
        posting_errors=[ErrorCount.model_validate(e) for e in r["posting_errors"]],
    )


def health(conn: psycopg.Connection, *, mode: str) -> Health:
    """Schema version and kill switch, read through a live connection (so the database is reachable)."""
    version = current_version(conn)
    row = conn.execute(query("get_control"), {"name": KILL_SWITCH}).fetchone()
    return Health(
        status="ok",
        database_reachable=True,
        schema_version=version,
        mode=mode,
        kill_switch=bool(row and row[0]),
        kill_switch_reason=row[1] if row else None,
    )
