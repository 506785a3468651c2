"""The 7-day experiment report: per experiment and arm n, exposure-weighted reward, FPKI, ER; lift with its
Welch CI, chance to win and anytime-valid CI; the SRM check; a decision by a stated rule; cumulative lift.

Statistics come from xbot_core.domain.stats (sufficient statistics → compare / sequential_ci / srm_test).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from xbot_core.domain import stats
from xbot_core.domain.reward import RewardVersion
from xbot_core.services import analytics
from xbot_core.services.analytics import Source, Window
from xbot_core.services.report_daily import load_posts

SHIP, ROLL_BACK, KEEP_TESTING = "ship", "roll back", "keep testing"
DECISION_RULE = (
    "Decision rule (exposure-weighted reward, relative lift of treatment over control): if the SRM "
    "check flags the split (p < 0.001) the assignment is broken → keep testing after fixing it; otherwise "
    "ship when the anytime-valid 95 % interval of the lift lies entirely above 0, roll back when it lies "
    "entirely below 0, and keep testing while it contains 0. The anytime-valid interval stays valid however "
    "often it is looked at; the Welch CI and chance to win are shown for reference, not used to stop."
)


@dataclass(frozen=True)
class ExperimentReport:
    start: date
    source: Source
    version: RewardVersion
    experiments: pl.DataFrame
    arms: pl.DataFrame
    results: pl.DataFrame
    cumulative: pl.DataFrame


def decide(av_low: float, av_high: float, srm_flagged: bool) -> str:
    """The stated rule: SRM → keep testing; anytime-valid interval above 0 → ship, below 0 → roll back."""
    if srm_flagged or not (np.isfinite(av_low) and np.isfinite(av_high)):
        return KEEP_TESTING
    if av_low > 0:
        return SHIP
    if av_high < 0:
        return ROLL_BACK
    return KEEP_TESTING


def _reward_stats(frame: pl.DataFrame) -> stats.WeightedSampleStats:
    ok = frame.filter(pl.col("reward").is_not_null())
    return stats.WeightedSampleStats.from_values(ok["reward"].to_numpy(), ok["exposure_weight"].to_numpy())


def _ratio(frame: pl.DataFrame, numerator: pl.Expr) -> stats.RatioStats:
    ok = frame.filter(pl.col("impressions").is_not_null() & (pl.col("impressions") > 0))
    return stats.RatioStats.from_values(
        ok.select(numerator.cast(pl.Float64)).to_series().to_numpy(),
        ok["impressions"].cast(pl.Float64).to_numpy(),
    )


ENGAGEMENTS = pl.col("likes") + pl.col("retweets") + pl.col("replies")
FOLLOWS_K = 1000.0 * pl.col("follows")


def build(source: Source, start: date, *, days: int = 7, tuning_n: float = 150.0) -> ExperimentReport:
    """Analyse every experiment overlapping [start, start + days)."""
    version = analytics.active_reward_version(source)
    window = Window.days_ending(start + timedelta(days=days - 1), days)
    experiments = analytics.load(source, "experiments", **window.params)
    assignments = analytics.load(source, "assignments", **window.params)
    posts = load_posts(source, window, version)
    joined = assignments.join(posts, on="decision_id", how="left")
    seq_cfg = stats.SequentialConfig(tuning_n=tuning_n)
    arm_rows, result_rows, cumulative_rows = [], [], []
    for exp in experiments.iter_rows(named=True):
        rows = joined.filter(pl.col("experiment_id") == exp["experiment_id"])
        control, treatment = (rows.filter(pl.col("variant") == v) for v in ("control", "treatment"))
        for variant, frame in (("control", control), ("treatment", treatment)):
            r = _reward_stats(frame)
            arm_rows.append(
                {
                    "experiment": exp["name"],
                    "variant": variant,
                    "arm": exp["treatment_arm"] if variant == "treatment" else "bandit's other arms",
                    "assigned": frame.height,
                    "measured": int(frame["reward"].is_not_null().sum()),
                    "weighted_reward": r.mean if r.sum_weights > 0 else None,
                    "FPKI": _ratio(frame, FOLLOWS_K).mean if frame.height else None,
                    "ER": _ratio(frame, ENGAGEMENTS).mean if frame.height else None,
                }
            )
        cmp = stats.compare(_reward_stats(control), _reward_stats(treatment))
        seq = stats.sequential_ci(_reward_stats(control), _reward_stats(treatment), seq_cfg)
        fpki = stats.compare(_ratio(control, FOLLOWS_K), _ratio(treatment, FOLLOWS_K))
        srm = stats.srm_test([control.height, treatment.height], [1 - exp["share"], exp["share"]])
        result_rows.append(
            {
                "experiment": exp["name"],
                "scope": exp["scope"],
                "treatment": exp["treatment_arm"],
                "share": exp["share"],
                "lift": cmp.lift,
                "ci_low": cmp.ci_low,
                "ci_high": cmp.ci_high,
                "p_value": cmp.p_value,
                "chance_to_win": cmp.chance_to_win,
                "expected_loss": cmp.expected_loss,
                "av_low": seq.ci_low,
                "av_high": seq.ci_high,
                "fpki_lift": fpki.lift,
                "srm_p": srm.p_value,
                "srm_flag": srm.flagged,
                "status": cmp.status,
                "decision": decide(seq.ci_low, seq.ci_high, srm.flagged),
            }
        )
        cumulative_rows.extend(_cumulative(exp, control, treatment, seq_cfg))
    results = pl.DataFrame(result_rows, infer_schema_length=None)
    if results.height:
        results = results.with_columns(
            pl.Series("p_holm", stats.holm(results["p_value"].fill_nan(1.0).to_numpy()))
        )
    return ExperimentReport(
        start=start,
        source=source,
        version=version,
        experiments=experiments,
        arms=pl.DataFrame(arm_rows, infer_schema_length=None),
        results=results,
        cumulative=pl.DataFrame(cumulative_rows, infer_schema_length=None),
    )


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
