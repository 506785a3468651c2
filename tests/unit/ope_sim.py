"""A seeded simulation of adaptively logged posts on the sandbox audience model (pure: no server).

One scope (content_type) varies; the other arms are neutral, the hour and weekday fixed, followers at the
sandbox's initial count. Each post's metrics are drawn exactly as the sandbox draws them
(xbot_core/sandbox/audience.py: lognormal reach, lognormal rate noise with mean 1, binomial counts) from the
model's expected reach and rates per arm, so the true mean follows per post of "always arm a" is known:
E[impressions]·rate = median·exp(σ²/2)·follow rate. A Thompson bandit (domain/bandit.py, ε schedule included)
chooses each day's posts from posteriors fitted on the previous days' rewards under the active version.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from xbot_core.domain import bandit
from xbot_core.domain.catalog import ArmCatalog
from xbot_core.domain.metrics import exposure_weight
from xbot_core.domain.reward import DEFAULT_VERSION, RewardVersion, reward
from xbot_core.sandbox.audience import Perceived, expected_rates, expected_reach
from xbot_core.sandbox.config import load_audience_config

SCOPE = "content_type"
ARMS = ArmCatalog().arms(SCOPE)
CONFIG = load_audience_config()
START = datetime(2026, 1, 5, 12, tzinfo=UTC)


def _model() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    followers = CONFIG.account.initial_followers
    medians, rates = [], []
    for arm in ARMS:
        seen = Perceived(content_type=arm, hook_pattern=None, timing_slot=None, local_hour=12, weekday=0)
        medians.append(expected_reach(CONFIG, seen, followers))
        rates.append(expected_rates(CONFIG, seen))
    return np.array(medians), {
        m: np.array([r[m] for r in rates]) for m in ("new_follows", "retweets", "replies")
    }


MEDIAN, RATES = _model()
TRUE_FOLLOWS = MEDIAN * math.exp(CONFIG.reach.sigma**2 / 2) * RATES["new_follows"]


@dataclass(frozen=True)
class Logs:
    """The logged posts of one simulated run, one entry per post."""

    actions: np.ndarray
    propensity: np.ndarray
    days: np.ndarray
    posted_at: tuple[datetime, ...]
    impressions: np.ndarray
    follows: np.ndarray
    retweets: np.ndarray
    replies: np.ndarray
    novelty: np.ndarray

    def rewards(self, v: RewardVersion) -> np.ndarray:
        rows = zip(
            self.impressions.tolist(), self.follows.tolist(), self.retweets.tolist(), self.replies.tolist(),
            self.novelty.tolist(), strict=True,
        )  # fmt: skip
        return np.array(
            [
                reward(v, impressions=i, follows=f, retweets=t, replies=r, novelty=n, dup_penalty=0.0)
                for i, f, t, r, n in rows
            ]
        )

    @property
    def exposure(self) -> np.ndarray:
        return np.array([exposure_weight(int(i), DEFAULT_VERSION.exposure_cap) for i in self.impressions])


def _draw(rng: np.random.Generator, a: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    imp = np.round(rng.lognormal(np.log(MEDIAN[a]), CONFIG.reach.sigma)).astype(np.int64)
    s = CONFIG.rates.rate_sigma
    counts = {}
    for metric, name in (("new_follows", "follows"), ("retweets", "retweets"), ("replies", "replies")):
        noisy = np.minimum(0.5, RATES[metric][a] * rng.lognormal(-s * s / 2, s, a.size))
        counts[name] = rng.binomial(imp, noisy)
    return np.maximum(imp, 1), counts


def simulate(seed: int, days: int = 14, per_day: int = 20) -> Logs:
    """`days` days of `per_day` posts, chosen by the Thompson bandit learning from the active reward."""
    rng = np.random.default_rng(seed)
    cfg = bandit.BanditConfig()
    states = bandit.fit_scope(SCOPE, ARMS, [], cfg)
    obs: list[bandit.Observation] = []
    cols: dict[str, list[np.ndarray]] = {c: [] for c in ("a", "p", "d", "imp", "f", "rt", "rp", "nov")}
    posted: list[datetime] = []
    for d in range(days):
        probs, _ = bandit.policy_probabilities(states, "thompson", cfg, rng)
        a = rng.choice(len(ARMS), size=per_day, p=probs)
        imp, c = _draw(rng, a)
        nov = rng.beta(4, 3, per_day)
        at = [START + timedelta(days=d, minutes=i) for i in range(per_day)]
        day = Logs(
            a, probs[a], np.full(per_day, d), tuple(at), imp, c["follows"], c["retweets"], c["replies"], nov
        )
        for i, (r, w) in enumerate(zip(day.rewards(DEFAULT_VERSION), day.exposure, strict=True)):
            obs.append(bandit.Observation(f"{d}/{i}", ARMS[a[i]], 2, float(r), float(w), at[i]))
        states = bandit.fit_scope(SCOPE, ARMS, obs, cfg)
        for key, v in zip(
            cols, (a, probs[a], day.days, imp, c["follows"], c["retweets"], c["replies"], nov), strict=True
        ):
            cols[key].append(v)  # fmt: skip
        posted += at
    cat = {k: np.concatenate(v) for k, v in cols.items()}
    return Logs(
        cat["a"], cat["p"], cat["d"], tuple(posted), cat["imp"], cat["f"], cat["rt"], cat["rp"], cat["nov"]
    )


def version(**weights: float) -> RewardVersion:
    """The active version's scales with other weights (every weight not given is 0)."""
    zero = dict.fromkeys(("w_fpki", "w_retweet", "w_reply", "w_novelty", "w_dup_penalty"), 0.0)
    return replace(DEFAULT_VERSION, **{**zero, **weights})  # type: ignore[arg-type]
