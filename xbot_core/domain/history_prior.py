"""The bandit's starting posteriors from an account's imported history (`xbot learn --prior-from-history`).

Each original history post whose arm in a scope is known adds `weight` times its live-post contribution to
that arm's prior: successes += W·w·r, failures += W·w·(1 − r), with r = clip(reward / reward_scale, 0, 1) and
w the exposure weight, exactly as a live outcome would (domain/bandit.py) but scaled by W. Why down-weight:
the history was not randomized (the account chose what to post, when, and about what, so arm and audience
are confounded), it predates the bot (other texts, other followers), and its novelty is measured against the
account's own earlier posts, not generated ones. DEFAULT_WEIGHT = 0.1 makes ten history posts count as one
live post: a year of history (a few hundred posts) then moves an arm's prior by tens of pseudo-posts at
most, and the bot's own randomized outcomes overtake it within weeks. Replies are left out: the bot writes
original posts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from xbot_core.domain.bandit import BanditConfig, contribution
from xbot_core.domain.features import FeatureConfig, dup_penalty, max_similarity

DEFAULT_WEIGHT = 0.1
MAX_WEIGHT = 1.0  # a history post never counts more than a live one


@dataclass(frozen=True)
class HistoryObservation:
    """One history post as the bandit sees it: its arm per scope (None: unknown), reward, exposure weight."""

    arms: Mapping[str, str | None]
    reward: float
    weight: float


@dataclass(frozen=True)
class PriorCounts:
    """Pseudo-counts one scope's arm starts from (added to the configured Beta prior)."""

    successes: float
    failures: float
    posts: int


def check_weight(weight: float) -> float:
    """The prior weight W, validated: 0 < W ≤ 1."""
    if not (math.isfinite(weight) and 0 < weight <= MAX_WEIGHT):
        raise ValueError(f"prior weight must be in (0, {MAX_WEIGHT}], got {weight!r}")
    return weight


def prior_counts(
    scope: str,
    arms: Sequence[str],
    history: Iterable[HistoryObservation],
    weight: float,
    cfg: BanditConfig,
) -> dict[str, PriorCounts]:
    """Each arm's pseudo-counts from the history posts whose arm in `scope` is one of `arms`."""
    check_weight(weight)
    sums = {arm: [0.0, 0.0, 0] for arm in arms}
    for h in history:
        arm = h.arms.get(scope)
        if arm not in sums:
            continue
        s, f = contribution(h.reward, h.weight, cfg.reward_scale)
        acc = sums[arm]
        acc[0] += weight * s
        acc[1] += weight * f
        acc[2] += 1
    return {arm: PriorCounts(float(s), float(f), int(n)) for arm, (s, f, n) in sums.items()}


def history_novelty(
    posts: Sequence[tuple[str, datetime]], config: FeatureConfig | None = None
) -> list[tuple[float, float]]:
    """(novelty, dup_penalty) of each post against the account's posts of the `recent_days` before it, the
    same definition generation uses for a new post (domain/features.py)."""
    cfg = config or FeatureConfig()
    order = sorted(range(len(posts)), key=lambda i: posts[i][1])
    out: list[tuple[float, float]] = [(0.0, 0.0)] * len(posts)
    window = timedelta(days=cfg.recent_days)
    for pos, i in enumerate(order):
        text, at = posts[i]
        recent = [posts[j][0] for j in order[:pos] if at - window <= posts[j][1] < at]
        sim = max_similarity(text, recent)
        out[i] = (1.0 - sim, dup_penalty(sim, cfg))
    return out
