"""The 7-day experiment report: is there enough mature data to decide, and if so what it says.

Per experiment: planned vs achieved posts (the plan's target MDE at the account's reward CV gives the planned
n), the MDE and power achieved, the share of posts still maturing. Only posts whose T+24h pass is stored
count. Below the planned n the report says how many more posts it needs and shows no p-value, chance to win
or lift. At or above it: the randomization p-value and the anytime-valid interval (together the decision
rule, DECISION_RULE), the Welch CI of the lift, a t-based chance to win and risk, the SRM check, and
FPKI / ER / reply rate as guardrails with delta-method CIs.

Statistics come from xbot_core.domain.stats; tables for people from services/reporting/report_tables.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from xbot_core.domain import stats
from xbot_core.domain.experiments import ExperimentPlan
from xbot_core.domain.reward import RewardVersion
from xbot_core.services.read import analytics, experiment_power
from xbot_core.services.read.analytics import Source, Window
from xbot_core.services.read.experiment_power import CvEstimate, mature
from xbot_core.services.reporting.report_daily import load_posts

SHIP, ROLL_BACK, KEEP_TESTING, NOT_ENOUGH = "ship", "roll back", "keep testing", "not enough data"
CONTROL_LABEL = "bandit policy (includes the treatment arm)"
DEFAULT_TARGET_MDE = 0.3  # for an experiment the plan file does not name
DECISION_ALPHA = 0.05
DECISION_RULE = (
    "Decision rule (exposure-weighted reward of mature posts, relative lift of treatment over the bandit "
    "policy): below the planned number of posts → not enough data, nothing is compared. Otherwise, if the "
    "SRM check flags the split (p < 0.001) the assignment is broken → keep testing after fixing it; else "
    "ship when the randomization p-value is below 0.05 and the anytime-valid 95 % interval of the lift lies "
    "entirely above 0, roll back when the p-value is below 0.05 and the interval lies entirely below 0, and "
    "keep testing otherwise. Both must agree: the randomization test is exact at any number of posts (it "
    "re-draws the plan's own assignment), the anytime-valid interval stays valid however often it is looked "
    "at. The Welch CI, the adjusted lift and the chance to win are shown for reference and decide nothing."
)
ENGAGEMENTS = pl.col("likes") + pl.col("retweets") + pl.col("replies")
GUARDRAILS: dict[str, tuple[pl.Expr, float]] = {
    "FPKI": (pl.col("follows"), 1000.0),
    "ER": (ENGAGEMENTS, 1.0),
    "reply rate": (pl.col("replies"), 1.0),
}


@dataclass(frozen=True)
class ExperimentReport:
    start: date
    source: Source
    version: RewardVersion
    cv: CvEstimate
    experiments: pl.DataFrame
    power: pl.DataFrame
    arms: pl.DataFrame
    results: pl.DataFrame
    guardrails: pl.DataFrame
    cumulative: pl.DataFrame
    rewards: pl.DataFrame
    summary: list[str] = field(default_factory=list)


def decide(
    av_low: float,
    av_high: float,
    p_randomization: float,
    srm_flagged: bool,
    enough_data: bool = True,
    alpha: float = DECISION_ALPHA,
) -> str:
    """The stated rule (DECISION_RULE): too few posts → not enough data; SRM → keep testing; ship or roll
    back only when the randomization p-value is below `alpha` and the anytime-valid interval excludes 0 on
    the same side; keep testing otherwise."""
    if not enough_data:
        return NOT_ENOUGH
    if srm_flagged or not (np.isfinite(av_low) and np.isfinite(av_high)):
        return KEEP_TESTING
    if not (np.isfinite(p_randomization) and p_randomization < alpha):
        return KEEP_TESTING
    if av_low > 0:
        return SHIP
    if av_high < 0:
        return ROLL_BACK
    return KEEP_TESTING


def _reward_stats(frame: pl.DataFrame) -> stats.WeightedSampleStats:
    ok = frame.filter(pl.col("reward").is_not_null())
    return stats.WeightedSampleStats.from_values(ok["reward"].to_numpy(), ok["exposure_weight"].to_numpy())


def _ratio(frame: pl.DataFrame, numerator: pl.Expr, per: float = 1.0) -> stats.RatioStats:
    ok = frame.filter(pl.col("impressions").is_not_null() & (pl.col("impressions") > 0))
    return stats.RatioStats.from_values(
        ok.select(numerator.cast(pl.Float64) * per).to_series().to_numpy(),
        ok["impressions"].cast(pl.Float64).to_numpy(),
    )


def _mean_or_none(s: stats.ArmStats) -> float | None:
    _mean, _var, n = stats.moments(s)
    return s.mean if n > 0 else None


def _latest(posts: pl.DataFrame) -> datetime:
    latest = posts["posted_at"].max()
    assert isinstance(latest, datetime)
    return latest


SCOPES = ("content_type", "hook_pattern", "timing_slot")
RESULT_FLOATS = (
    "lift", "ci_low", "ci_high", "p_randomization", "p_welch", "chance_to_win", "expected_loss", "av_low",
    "av_high", "adjusted_lift", "adjusted_low", "adjusted_high", "adjusted_p",
)  # fmt: skip


def with_followers(posts: pl.DataFrame, snapshots: pl.DataFrame) -> pl.DataFrame:
    """Add `followers_at_post`: the latest follower snapshot taken before each post (null if none)."""
    snaps = snapshots.select(
        pl.col("taken_at").cast(pl.Datetime("us", "UTC")), pl.col("followers").cast(pl.Float64)
    ).sort("taken_at")
    ordered = posts.with_row_index("_row").sort("posted_at", nulls_last=True)
    timed = ordered.filter(pl.col("posted_at").is_not_null()).with_columns(
        pl.col("posted_at").cast(pl.Datetime("us", "UTC"))
    )
    joined = timed.join_asof(snaps, left_on="posted_at", right_on="taken_at", strategy="backward")
    return (
        ordered.join(
            joined.select("_row", pl.col("followers").alias("followers_at_post")), on="_row", how="left"
        )
        .sort("_row")
        .drop("_row")
    )


def _max_leverage(x: np.ndarray) -> float:
    q, _ = np.linalg.qr(x)
    return float(np.max(np.sum(q**2, axis=1)))


def covariates(frame: pl.DataFrame, scope: str) -> np.ndarray:
    """Followers at post time (centred, when every post has a snapshot before it), then indicators of the
    other scopes' arms and of the weekday, kept one at a time while they add rank and leave every post's
    leverage below 1 (a level with one post, one implied by others, or one that pins a single post is
    dropped: robust errors need a residual for every post)."""
    treated = (frame["variant"] == "treatment").cast(pl.Float64).to_numpy()
    kept = [np.ones(frame.height), treated]
    weekday = frame["posted_at"].dt.weekday().cast(pl.String).alias("weekday")
    columns = [frame[s] for s in SCOPES if s != scope] + [weekday]
    if "followers_at_post" in frame.columns and frame["followers_at_post"].null_count() == 0:
        followers = frame["followers_at_post"].cast(pl.Float64).to_numpy()
        centred = followers - followers.mean()
        design = np.column_stack([*kept, centred])
        if np.linalg.matrix_rank(design) > len(kept) and _max_leverage(design) < 1 - 1e-8:
            kept.append(centred)
    for col in columns:
        for level in col.unique(maintain_order=True).to_list()[1:]:
            candidate = (col == level).cast(pl.Float64).to_numpy()
            if candidate.sum() < 2:
                continue
            design = np.column_stack([*kept, candidate])
            if np.linalg.matrix_rank(design) > len(kept) and _max_leverage(design) < 1 - 1e-8:
                kept.append(candidate)
    return np.column_stack(kept[2:]) if len(kept) > 2 else np.empty((frame.height, 0))


def _targets(plan: ExperimentPlan | None) -> dict[str, float]:
    return {e.name: e.target_mde for e in (plan.experiments if plan else ()) if e.target_mde is not None}


def _more_days(more: int, assigned: int, starts_at: datetime, ends_at: datetime) -> int | None:
    """Days at the experiment's own posting rate (assigned decisions per day of its window)."""
    days = max((ends_at - starts_at).total_seconds() / 86400.0, 1.0)
    rate = assigned / days
    return math.ceil(more / rate) if rate > 0 else None


@dataclass(frozen=True)
class _Groups:
    """One experiment's decisions: all assigned, the published ones, the mature ones (fixed order) split by
    variant, and the published ones still waiting for their T+24h pass."""

    assigned: pl.DataFrame
    published: pl.DataFrame
    ripe: pl.DataFrame
    control: pl.DataFrame
    treatment: pl.DataFrame
    pending: pl.DataFrame

    @classmethod
    def of(cls, joined: pl.DataFrame, experiment_id: object) -> _Groups:
        rows = joined.filter(pl.col("experiment_id") == experiment_id)
        published = rows.filter(pl.col("posted_at").is_not_null())
        ripe = mature(published).sort("posted_at", "decision_id")  # a fixed order: same seed, same draws
        control, treatment = (ripe.filter(pl.col("variant") == v) for v in ("control", "treatment"))
        pending = published.filter(
            pl.col("collected_pass").is_null() | (pl.col("collected_pass") < experiment_power.MATURE_PASS)
        )
        return cls(rows, published, ripe, control, treatment, pending)


def build(
    source: Source,
    start: date,
    *,
    plan: ExperimentPlan,
    days: int = 7,
    tuning_n: float = 150.0,
    seed: int = 7,
) -> ExperimentReport:
    """Analyse every experiment overlapping [start, start + days) on mature posts, against `plan` (its target
    MDE per experiment; the notebook passes the configured plan)."""
    rng = np.random.default_rng(seed)
    version = analytics.active_reward_version(source)
    window = Window.days_ending(start + timedelta(days=days - 1), days)
    experiments = analytics.load(source, "experiments", **window.params)
    assignments = analytics.load(source, "assignments", **window.params)
    posts = load_posts(source, window, version)
    cv = experiment_power.account_cv(source, until=window.until.date() - timedelta(days=1))
    snapshots = analytics.load(source, "follower_snapshots", **window.params)
    joined = with_followers(assignments.join(posts, on="decision_id", how="left"), snapshots)
    targets = _targets(plan)
    seq_cfg = stats.SequentialConfig(tuning_n=tuning_n)
    power_rows, arm_rows, result_rows, guard_rows, cumulative_rows, reward_rows = [], [], [], [], [], []
    summary = []
    for exp in experiments.iter_rows(named=True):
        groups = _Groups.of(joined, exp["experiment_id"])
        power = _power_row(exp, groups, targets.get(exp["name"], DEFAULT_TARGET_MDE), cv.cv)
        power_rows.append(power)
        arm_rows.extend(_arm_rows(exp, groups))
        reward_rows.append(_reward_rows(exp, groups.ripe))
        result, guards = _result(exp, groups, power["enough"], rng, seq_cfg)
        result_rows.append(result)
        guard_rows.extend(guards)
        if power["enough"]:
            cumulative_rows.extend(_cumulative(exp, groups.control, groups.treatment, seq_cfg))
        summary.append(sentence(power, result, exp["treatment_arm"]))
    results = pl.DataFrame(result_rows, infer_schema_length=None)
    for col in RESULT_FLOATS:
        if col not in results.columns:
            results = results.with_columns(pl.lit(None, dtype=pl.Float64).alias(col))
    return ExperimentReport(
        start=start,
        source=source,
        version=version,
        cv=cv,
        experiments=experiments,
        power=pl.DataFrame(power_rows, infer_schema_length=None),
        arms=pl.DataFrame(arm_rows, infer_schema_length=None),
        results=results,
        guardrails=pl.DataFrame(guard_rows, infer_schema_length=None),
        cumulative=pl.DataFrame(cumulative_rows, infer_schema_length=None),
        rewards=pl.concat(reward_rows) if reward_rows else pl.DataFrame(),
        summary=summary,
    )


def _power_row(exp: dict, g: _Groups, target: float, cv: float) -> dict:
    """Planned vs achieved mature posts, the MDE and power achieved, what is still maturing and how many
    more posts (and days at this experiment's rate) the plan needs."""
    share = float(exp["share"])
    planned = stats.posts_needed(target, share, cv)
    achieved = g.ripe.height
    nc, nt = g.control.height, g.treatment.height
    more = max(0, planned - achieved)
    can_size = nc >= 1 and nt >= 1 and achieved >= 3
    maturing = g.pending.height
    return {
        "experiment": exp["name"],
        "share": share,
        "target_mde": target,
        "planned_posts": planned,
        "mature_posts": achieved,
        "mature_control": nc,
        "mature_treatment": nt,
        "maturing_posts": maturing,
        "maturing_share": maturing / g.published.height if g.published.height else None,
        "mature_by": _latest(g.pending) + timedelta(hours=24) if maturing else None,
        "mde": stats.mde(nc, nt, cv) if can_size else None,
        "power_at_target": stats.power(nc, nt, cv, target) if can_size else None,
        "more_posts": more,
        "more_days": _more_days(more, g.assigned.height, exp["starts_at"], exp["ends_at"]) if more else 0,
        "enough": more == 0 and nc >= 2 and nt >= 2,
    }


def _arm_rows(exp: dict, g: _Groups) -> list[dict]:
    """Per variant: assigned and mature posts, the control's share on the treatment arm, the mean reward and
    the guardrail rates."""
    control = g.control
    on_arm = control.filter(pl.col(exp["scope"]) == exp["treatment_arm"]).height if control.height else 0
    rows = []
    for variant, frame in (("control", control), ("treatment", g.treatment)):
        rows.append(
            {
                "experiment": exp["name"],
                "variant": variant,
                "arm": exp["treatment_arm"] if variant == "treatment" else CONTROL_LABEL,
                "assigned": g.assigned.filter(pl.col("variant") == variant).height,
                "mature": frame.height,
                "on_treatment_arm": (on_arm / control.height if control.height else None)
                if variant == "control"
                else None,
                "weighted_reward": _mean_or_none(_reward_stats(frame)),
                **{m: _mean_or_none(_ratio(frame, e, per)) for m, (e, per) in GUARDRAILS.items()},
            }
        )
    return rows


def _reward_rows(exp: dict, ripe: pl.DataFrame) -> pl.DataFrame:
    """Each mature post's reward and exposure weight, grouped as treatment arm or bandit policy."""
    return ripe.select(
        pl.lit(exp["name"]).alias("experiment"),
        pl.when(pl.col("variant") == "treatment")
        .then(pl.lit(exp["treatment_arm"]))
        .otherwise(pl.lit("bandit policy"))
        .alias("group"),
        "reward",
        "exposure_weight",
    )


def _result(
    exp: dict, g: _Groups, enough: bool, rng: np.random.Generator, seq_cfg: stats.SequentialConfig
) -> tuple[dict, list[dict]]:
    """The SRM check always; with enough data the lift by every method and the guardrails; then the
    decision by DECISION_RULE. Returns the result row and the guardrail rows (none without enough data)."""
    share = float(exp["share"])
    treated = int(g.assigned["variant"].eq("treatment").sum())
    srm = stats.srm_test([g.assigned.height - treated, treated], [1 - share, share])
    result = {"experiment": exp["name"], "enough": enough, "srm_p": srm.p_value, "srm_flag": srm.flagged}
    guards: list[dict] = []
    if enough:
        result |= _lift(g, share, exp["scope"], rng, seq_cfg)
        guards = _guardrail_rows(exp["name"], g.control, g.treatment)
    result["decision"] = decide(
        result.get("av_low", math.nan),
        result.get("av_high", math.nan),
        result.get("p_randomization", math.nan),
        srm.flagged,
        enough,
    )
    return result, guards


def _lift(
    g: _Groups, share: float, scope: str, rng: np.random.Generator, seq_cfg: stats.SequentialConfig
) -> dict:
    """The reward lift of treatment over control: Welch CI and p, the anytime-valid interval, the t-based
    chance to win and risk, the randomization p-value and the covariate-adjusted lift."""
    control, treatment, ripe = _reward_stats(g.control), _reward_stats(g.treatment), g.ripe
    cmp = stats.compare(control, treatment)
    seq = stats.sequential_ci(control, treatment, seq_cfg)
    t_ctw = stats.t_chance_to_win(control, treatment)
    treated = (ripe["variant"] == "treatment").to_numpy()
    rewards, weights = ripe["reward"].to_numpy(), ripe["exposure_weight"].to_numpy()
    rand = stats.randomization_test(rewards, treated, share, rng, weights=weights)
    adj = stats.adjusted_effect(rewards, treated, covariates(ripe, scope), weights)
    return {
        "adjusted_lift": adj.lift,
        "adjusted_low": adj.ci_low,
        "adjusted_high": adj.ci_high,
        "adjusted_p": adj.p_value,
        "lift": cmp.lift,
        "ci_low": cmp.ci_low,
        "ci_high": cmp.ci_high,
        "p_randomization": rand.p_value,
        "p_welch": cmp.p_value,
        "chance_to_win": t_ctw.chance_to_win,
        "expected_loss": t_ctw.expected_loss,
        "av_low": seq.ci_low,
        "av_high": seq.ci_high,
        "status": cmp.status,
    }


def _guardrail_rows(name: str, control: pl.DataFrame, treatment: pl.DataFrame) -> list[dict]:
    """FPKI, ER and reply rate per variant with the lift's delta-method CI (post as cluster)."""
    rows = []
    for metric, (expr, per) in GUARDRAILS.items():
        gc = stats.compare(_ratio(control, expr, per), _ratio(treatment, expr, per))
        rows.append(
            {
                "experiment": name,
                "metric": metric,
                "control": gc.control_mean,
                "treatment": gc.treatment_mean,
                "lift": gc.lift,
                "ci_low": gc.ci_low,
                "ci_high": gc.ci_high,
            }
        )
    return rows


NO_RESULTS = (
    "No experiment has its planned number of mature posts yet, so no lift is shown: a lift from a handful of "
    "posts would be mostly noise. The table above says how many more posts each one needs."
)
NO_EXPERIMENTS = (
    "There are no experiments in this window. Run `xbot demo` (or let the `plan_and_generate` flow run the "
    "plan) to fill it, or pick another `start_date`."
)


def has_results(report: ExperimentReport) -> bool:
    return report.results.height > 0 and bool(report.results["enough"].any())


def default_start(source: Source, start_date: str, days: int) -> date:
    """The parameter when given; else the `days` days ending with the account's latest post (today when it
    has none), so the report opens on the data the account has."""
    if start_date:
        return analytics.parse_day(start_date)
    latest = experiment_power.latest_post_day(source) or analytics.parse_day(None)
    return latest - timedelta(days=days - 1)


def headline(report: ExperimentReport, days: int) -> str:
    kind = "simulated" if report.source.simulated else "real"
    return (
        f"**@{report.source.handle}**, {kind} data, plan from **{report.start}** ({days} days), reward "
        f"version {report.version.version}, {report.experiments.height} experiment(s)."
    )


def summary_markdown(report: ExperimentReport) -> str:
    """One sentence per experiment, then the pilot warning when the plan cannot see moderate effects."""
    from xbot_core.domain.plan_power import PILOT_MDE, PILOT_WARNING

    if not report.summary:
        return NO_EXPERIMENTS
    lines = [f"- {s}" for s in report.summary]
    small = [r for r in report.power.iter_rows(named=True) if r["mde"] is None or r["mde"] > PILOT_MDE]
    if small:
        lines.append(f"\n{PILOT_WARNING}")
    return "\n".join(lines)


def not_enough_text(more: int, more_days: int | None) -> str:
    days = f" (≈ {more_days} days at this share)" if more_days is not None else ""
    return f"not enough data: about {more} more posts{days}"


def sentence(power_row: dict, result: dict, arm: str) -> str:
    """One sentence a person can act on."""
    name = power_row["experiment"]
    have = f"{power_row['mature_posts']} mature posts of the {power_row['planned_posts']} planned"
    if not power_row["enough"]:
        return f"{name}: {not_enough_text(power_row['more_posts'], power_row['more_days'])} — {have}."
    if result["srm_flag"]:
        return (
            f"{name}: the split of posts does not match the plan (SRM p < 0.001); fix the assignment first."
        )
    p = result.get("p_randomization", math.nan)
    if not np.isfinite(p):
        p_text = "no randomization p-value"
    else:
        p_text = "randomization p < 0.001" if p < 0.001 else f"randomization p = {p:.3f}"
    decision = result["decision"]
    if decision == SHIP:
        verdict = f"ship {arm}: {p_text} and the anytime-valid 95 % interval of its reward lift lies above 0"
    elif decision == ROLL_BACK:
        verdict = (
            f"roll back {arm}: {p_text} and the anytime-valid 95 % interval of its reward lift lies below 0"
        )
    else:
        low, high = result.get("av_low", math.nan), result.get("av_high", math.nan)
        reasons = []
        if not (np.isfinite(p) and p < DECISION_ALPHA):
            reasons.append(f"{p_text} (not below {DECISION_ALPHA})")
        if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 <= high:
            reasons.append("the anytime-valid 95 % interval of the lift still contains 0")
        verdict = "keep testing: " + " and ".join(reasons or ["the p-value and the interval disagree"])
    return f"{name}: {verdict} ({have})."


def _cumulative(
    exp: dict, control: pl.DataFrame, treatment: pl.DataFrame, cfg: stats.SequentialConfig
) -> list[dict]:
    """Lift and its anytime-valid interval using the posts up to the end of each day of the experiment."""
    out = []
    day = exp["starts_at"]
    while day < exp["ends_at"]:
        day = day + timedelta(days=1)
        c = control.filter(pl.col("posted_at") < day)
        t = treatment.filter(pl.col("posted_at") < day)
        seq = stats.sequential_ci(_reward_stats(c), _reward_stats(t), cfg)
        out.append(
            {
                "experiment": exp["name"],
                "day": day - timedelta(days=1),
                "lift": seq.lift,
                "av_low": seq.ci_low,
                "av_high": seq.ci_high,
                "status": seq.status,
            }
        )
    return out
