"""Measure the experiment inference on the simulator's default 7-day plan (issue 15's 300-run study).

Each run simulates 7 days at 8 posts a day (history_sim, the default plan: question_cta 30 % on days 3–4,
late_evening 20 % on days 5–6) and scores every post's T+24h reward. Per experiment:
  A/A — the posts of the experiment's days get fresh labels drawn at the plan's share, independent of
        their rewards: how often does each method call a difference (p < 0.05) or a loser (chance to win
        below 5 %)?
  A/B — the simulator's own labels and arm effects: how often does the randomization test reject?
and the MDE of each run's achieved split at its own reward CV. Run:
  PYTHONPATH=. .venv/bin/python bench/experiment_inference.py [runs]
"""

from __future__ import annotations

import sys

import numpy as np
import polars as pl

from xbot_core.domain.reward import DEFAULT_VERSION
from xbot_core.domain.stats import (
    RandomizationConfig,
    WeightedSampleStats,
    compare,
    mde,
    randomization_test,
    t_chance_to_win,
)
from xbot_core.services.simulation import history_sim as hs


def _arms(x: np.ndarray, w: np.ndarray, z: np.ndarray) -> tuple[WeightedSampleStats, WeightedSampleStats]:
    return WeightedSampleStats.from_values(x[~z], w[~z]), WeightedSampleStats.from_values(x[z], w[z])


def main(runs: int) -> None:
    rng = np.random.default_rng(2026)
    cfg_rand = RandomizationConfig(draws=999)
    rows = []
    for seed in range(runs):
        posts, _runs, _shifts, _state = hs.simulate(hs.HistoryConfig(seed=seed, days=7, posts_per_day=8))
        scored = posts.select("decision_id", "experiment", "variant", "experiment_share").with_columns(
            hs.pass_outcomes(posts, 2, DEFAULT_VERSION).select("reward", "exposure_weight")
        )
        for name in ("question_cta", "late_evening_slot"):
            exp = scored.filter(pl.col("experiment") == name)
            if exp.is_empty():
                continue
            share = float(exp["experiment_share"][0])
            x, w = exp["reward"].to_numpy(), exp["exposure_weight"].to_numpy()
            z_ab = (exp["variant"] == "treatment").to_numpy()
            z_aa = rng.random(x.size) < share
            row: dict[str, object] = {"experiment": name, "n_treatment": int(z_ab.sum())}
            for kind, z in (("aa", z_aa), ("ab", z_ab)):
                if z.sum() < 2 or (~z).sum() < 2:
                    continue
                c, t = _arms(x, w, z)
                normal, tpost = compare(c, t), t_chance_to_win(c, t)
                rand = randomization_test(x, z, share, rng, weights=w, config=cfg_rand)
                row |= {
                    f"{kind}_welch": normal.p_value < 0.05,
                    f"{kind}_normal_ctw": normal.chance_to_win < 0.05,
                    f"{kind}_t_ctw": tpost.chance_to_win < 0.05,
                    f"{kind}_rand": rand.p_value < 0.05,
                }
                if kind == "ab":
                    cv = float(
                        np.sqrt(WeightedSampleStats.from_values(x, w).variance) / np.average(x, weights=w)
                    )
                    row |= {"mde": mde(c.effective_n, t.effective_n, cv), "lift": normal.lift}
            rows.append(row)
    frame = pl.DataFrame(rows, infer_schema_length=None)
    print(f"{runs} simulated runs of the default plan (8 posts a day), 999 re-draws per randomization test")
    for name in ("question_cta", "late_evening_slot"):
        f = frame.filter(pl.col("experiment") == name)
        print(f"\n{name}: treated posts mean {f['n_treatment'].mean():.1f}, ≤ 1 in "
              f"{(f['n_treatment'] <= 1).mean():.0%} of runs")  # fmt: skip
        for kind, label in (
            ("aa", "A/A (labels independent of rewards)"),
            ("ab", "A/B (the simulator's labels)"),
        ):
            g = f.drop_nulls(f"{kind}_welch")
            print(f"  {label}, {g.height} runs with ≥ 2 posts per arm:")
            print(f"    Welch p < 0.05            {g[f'{kind}_welch'].mean():6.1%}")
            print(f"    randomization p < 0.05    {g[f'{kind}_rand'].mean():6.1%}")
            print(f"    normal chance to win < 5% {g[f'{kind}_normal_ctw'].mean():6.1%}")
            print(f"    t chance to win < 5%      {g[f'{kind}_t_ctw'].mean():6.1%}")
        g = f.drop_nulls("mde")
        print(f"  MDE at the achieved split and the run's CV: median {g['mde'].median():.0%}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
