"""Per-scope bandits on Beta posteriors, with the propensity of every choice logged for off-policy evaluation.

Each outcome updates its arm fractionally: with r = clip(reward / reward_scale, 0, 1) and w = exposure weight,
successes += w·r and failures += w·(1 − r); alpha/beta = prior + successes/failures. The scale is a fixed,
versioned constant (REWARD_SCALING_VERSION): clipping the reward itself to [0, 1] (version 1) squeezed exactly
the good arms together, since the composite reward often exceeds 1. A pass-2 outcome of a
decision replaces its pass-1 outcome (never both). Every policy is mixed with ε-exploration,
ε = ε_start − (ε_start − ε_end)·min(n, N)/N over a scope's first N samples (0.20 → 0.05 over 100). The chosen
arm is drawn from the mixed probability vector, so the logged propensity is exactly the probability the
choice was made with: a Monte-Carlo estimate of P(arm wins a Thompson draw) (≥ 10,000 seeded draws), or the
closed form for UCB1 / ε-greedy (ties split uniformly).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

from xbot_core.domain.catalog import SCOPES
from xbot_core.errors import ConfigError

BanditPolicy = Literal["thompson", "ucb1", "epsilon_greedy"]
POLICIES: tuple[str, ...] = ("thompson", "ucb1", "epsilon_greedy")
MIN_MC_DRAWS = 10_000
# Rewards enter the Beta update divided by REWARD_SCALE. Scaling version 1 clipped the reward to [0, 1];
# on the sandbox audience model 13 % of rewards exceed 1 (99th percentile 1.96, 99.9th 3.02), so clipping
# cut the best arm's mean from 0.818 to 0.702 while the others lost 0.02–0.04 (bench/reward_scale.py).
# Version 2 divides by 3.
REWARD_SCALING_VERSION = 2
REWARD_SCALE = 3.0


@dataclass(frozen=True)
class BanditConfig:
    """Every tunable of the bandit; `discount` γ ∈ (0, 1] scales an observation by γ per newer one."""

    policies: Mapping[str, str] = field(default_factory=lambda: dict.fromkeys(SCOPES, "thompson"))
    prior_alpha: float = 1.0
    prior_beta: float = 1.0
    epsilon_start: float = 0.20
    epsilon_end: float = 0.05
    epsilon_decay_samples: int = 100
    mc_draws: int = MIN_MC_DRAWS
    ucb_c: float = 1.0
    discount: float | None = None
    reward_scale: float = REWARD_SCALE
    window_days: int | None = None  # sliding window: a rebuild uses only the last `window_days` of evidence

    def __post_init__(self) -> None:
        problems = []
        for scope, policy in self.policies.items():
            if scope not in SCOPES:
                problems.append(f"unknown scope {scope!r} (expected one of {SCOPES})")
            if policy not in POLICIES:
                problems.append(f"unknown policy {policy!r} for scope {scope!r} (expected one of {POLICIES})")
        if not (self.prior_alpha > 0 and self.prior_beta > 0):
            problems.append("prior_alpha and prior_beta must be > 0")
        if not (0 <= self.epsilon_end <= self.epsilon_start <= 1):
            problems.append("need 0 ≤ epsilon_end ≤ epsilon_start ≤ 1")
        if self.epsilon_decay_samples < 1:
            problems.append("epsilon_decay_samples must be ≥ 1")
        if self.mc_draws < MIN_MC_DRAWS:
            problems.append(f"mc_draws must be ≥ {MIN_MC_DRAWS}, got {self.mc_draws}")
        if not (self.ucb_c >= 0 and math.isfinite(self.ucb_c)):
            problems.append("ucb_c must be a finite number ≥ 0")
        if not (self.reward_scale > 0 and math.isfinite(self.reward_scale)):
            problems.append(f"reward_scale must be a finite number > 0, got {self.reward_scale!r}")
        if self.window_days is not None and self.window_days < 1:
            problems.append(f"window_days must be ≥ 1, got {self.window_days!r}")
        if self.discount is not None and not (0 < self.discount <= 1):
            problems.append(f"discount must be in (0, 1], got {self.discount!r}")
        if problems:
            raise ConfigError("invalid bandit config: " + "; ".join(problems))

    def policy(self, scope: str) -> str:
        return self.policies.get(scope, "thompson")


@dataclass(frozen=True)
class ArmState:
    """Sufficient statistics of one arm (mirrors a `bandit_arms` row)."""

    scope: str
    arm: str
    alpha: float
    beta: float
    successes: float = 0.0
    failures: float = 0.0
    pulls: int = 0
    sum_reward: float = 0.0
    provisional: int = 0

    @property
    def mean(self) -> float:
        """Posterior mean alpha / (alpha + beta)."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def n_eff(self) -> float:
        """Exposure-weighted (and discounted) evidence: successes + failures."""
        return self.successes + self.failures


@dataclass(frozen=True)
class Observation:
    """One outcome of one decision as seen by one scope's bandit."""

    decision_id: str
    arm: str
    collected_pass: int
    reward: float
    weight: float
    observed_at: datetime | None = None


@dataclass(frozen=True)
class Choice:
    """The arm chosen in one scope, the probability it was chosen with, and the whole distribution."""

    scope: str
    arm: str
    propensity: float
    policy: str
    epsilon: float
    probabilities: Mapping[str, float]


def prior(scope: str, arm: str, cfg: BanditConfig) -> ArmState:
    return ArmState(scope=scope, arm=arm, alpha=cfg.prior_alpha, beta=cfg.prior_beta)


def epsilon(samples: int, cfg: BanditConfig) -> float:
    """Linear decay from epsilon_start to epsilon_end over the scope's first epsilon_decay_samples samples."""
    frac = min(max(samples, 0), cfg.epsilon_decay_samples) / cfg.epsilon_decay_samples
    return cfg.epsilon_start - (cfg.epsilon_start - cfg.epsilon_end) * frac


def contribution(reward: float, weight: float, scale: float = 1.0) -> tuple[float, float]:
    """(successes, failures) of one outcome: reward / scale clipped to [0, 1], times its exposure weight."""
    if not (math.isfinite(reward) and math.isfinite(weight)) or weight < 0:
        raise ValueError(f"reward and weight must be finite and weight ≥ 0, got {reward!r}, {weight!r}")
    r = min(1.0, max(0.0, reward / scale))
    return weight * r, weight * (1.0 - r)


def latest_pass(observations: Iterable[Observation]) -> list[Observation]:
    """Keep only the latest collected pass per decision (pass 2 replaces pass 1)."""
    best: dict[str, Observation] = {}
    for obs in observations:
        cur = best.get(obs.decision_id)
        if cur is None or obs.collected_pass > cur.collected_pass:
            best[obs.decision_id] = obs
    return list(best.values())


def fit_scope(
    scope: str,
    arms: Sequence[str],
    observations: Iterable[Observation],
    cfg: BanditConfig,
    priors: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[ArmState, ...]:
    """Rebuild a scope's posteriors from scratch: latest pass per decision, optional recency discount, and
    with `window_days`, only observations within that many days of the newest timed one. `priors` adds
    (alpha, beta) pseudo-counts per arm to the configured prior (the history prior, domain/history_prior.py);
    successes/failures/pulls stay the live evidence only."""
    index = {arm: i for i, arm in enumerate(arms)}
    obs = latest_pass(observations)
    timed = [o.observed_at for o in obs if o.observed_at is not None]
    if cfg.window_days is not None and timed:
        start = max(timed) - timedelta(days=cfg.window_days)
        obs = [o for o in obs if o.observed_at is None or o.observed_at > start]
    unknown = sorted({o.arm for o in obs if o.arm not in index})
    if unknown:
        raise ValueError(f"observations for arms not in scope {scope!r}: {unknown}")
    # oldest first, so discounting gives the newest observation full weight
    obs.sort(key=lambda o: (o.observed_at is None, o.observed_at or datetime.min, o.decision_id))
    k = len(arms)
    succ, fail, rsum = np.zeros(k), np.zeros(k), np.zeros(k)
    pulls, prov = np.zeros(k, dtype=int), np.zeros(k, dtype=int)
    n = len(obs)
    for pos, o in enumerate(obs):
        i = index[o.arm]
        s, f = contribution(o.reward, o.weight, cfg.reward_scale)
        decay = 1.0 if cfg.discount is None else cfg.discount ** (n - 1 - pos)
        succ[i] += decay * s
        fail[i] += decay * f
        rsum[i] += o.reward
        pulls[i] += 1
        prov[i] += o.collected_pass == 1
    return tuple(
        ArmState(
            scope=scope,
            arm=arm,
            alpha=cfg.prior_alpha + (priors or {}).get(arm, (0.0, 0.0))[0] + float(succ[i]),
            beta=cfg.prior_beta + (priors or {}).get(arm, (0.0, 0.0))[1] + float(fail[i]),
            successes=float(succ[i]),
            failures=float(fail[i]),
            pulls=int(pulls[i]),
            sum_reward=float(rsum[i]),
            provisional=int(prov[i]),
        )
        for i, arm in enumerate(arms)
    )


def _shift(state: ArmState, reward: float, weight: float, sign: int, cfg: BanditConfig) -> ArmState:
    s, f = contribution(reward, weight, cfg.reward_scale)
    succ = max(0.0, state.successes + sign * s)
    fail = max(0.0, state.failures + sign * f)
    return replace(
        state,
        successes=succ,
        failures=fail,
        alpha=cfg.prior_alpha + succ,
        beta=cfg.prior_beta + fail,
        sum_reward=state.sum_reward + sign * reward,
    )


def apply_feedback(
    states: Sequence[ArmState], new: Observation, cfg: BanditConfig, previous: Observation | None = None
) -> tuple[ArmState, ...]:
    """Incremental update: add `new`; when `previous` (the same decision's pass-1 outcome) is given, remove it
    first, so a decision counts once. With discounting, all arms decay by γ before the new evidence lands."""
    if previous is not None and previous.decision_id != new.decision_id:
        raise ValueError("previous feedback must belong to the same decision")
    out = list(states)
    if cfg.discount is not None and previous is None:
        g = cfg.discount
        out = [
            replace(
                s,
                successes=g * s.successes,
                failures=g * s.failures,
                alpha=cfg.prior_alpha + g * s.successes,
                beta=cfg.prior_beta + g * s.failures,
            )
            for s in out
        ]
    by_arm = {s.arm: i for i, s in enumerate(out)}
    if previous is not None:
        i = by_arm[previous.arm]
        out[i] = _shift(out[i], previous.reward, previous.weight, -1, cfg)
        out[i] = replace(out[i], pulls=out[i].pulls - 1, provisional=max(0, out[i].provisional - 1))
    i = by_arm[new.arm]
    out[i] = _shift(out[i], new.reward, new.weight, +1, cfg)
    out[i] = replace(
        out[i], pulls=out[i].pulls + 1, provisional=out[i].provisional + (new.collected_pass == 1)
    )
    return tuple(out)


def thompson_probabilities(
    alpha: np.ndarray, beta: np.ndarray, draws: int, rng: np.random.Generator
) -> np.ndarray:
    """Monte-Carlo P(arm has the highest Beta draw), from `draws` joint draws (vectorised; sums to 1)."""
    # one scalar-parameter Beta call per arm is numpy's fast path (≈ 20 % quicker than broadcasting)
    samples = np.stack([rng.beta(a, b, size=draws) for a, b in zip(alpha, beta, strict=True)], axis=1)
    wins = np.bincount(samples.argmax(axis=1), minlength=alpha.shape[0])
    return wins / draws


def _argmax_uniform(scores: np.ndarray) -> np.ndarray:
    """A probability vector spreading 1 uniformly over the arms tied at the maximum."""
    top = (
        np.isclose(scores, scores.max(), rtol=0.0, atol=1e-12)
        if np.isfinite(scores.max())
        else np.isinf(scores)
    )
    return top / top.sum()


def ucb1_probabilities(states: Sequence[ArmState], c: float) -> np.ndarray:
    """Deterministic UCB1 on the exposure-weighted empirical mean; unplayed arms first (ties split)."""
    n = np.array([s.n_eff for s in states])
    if (n <= 0).any():
        return (n <= 0) / (n <= 0).sum()
    means = np.array([s.successes for s in states]) / n
    total = max(float(n.sum()), 1.0)
    return _argmax_uniform(means + c * np.sqrt(2.0 * math.log(total) / n))


def greedy_probabilities(states: Sequence[ArmState]) -> np.ndarray:
    """All mass on the highest posterior mean (ties split)."""
    return _argmax_uniform(np.array([s.mean for s in states]))


def policy_probabilities(
    states: Sequence[ArmState], policy: str, cfg: BanditConfig, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """The probability of each arm under `policy` mixed with the scope's current ε, and that ε."""
    if not states:
        raise ValueError("a scope needs at least one arm")
    if policy == "thompson":
        alpha = np.array([s.alpha for s in states])
        beta = np.array([s.beta for s in states])
        base = thompson_probabilities(alpha, beta, cfg.mc_draws, rng)
    elif policy == "ucb1":
        base = ucb1_probabilities(states, cfg.ucb_c)
    elif policy == "epsilon_greedy":
        base = greedy_probabilities(states)
    else:
        raise ConfigError(f"unknown bandit policy {policy!r} (expected one of {POLICIES})")
    eps = epsilon(sum(s.pulls for s in states), cfg)
    probs = (1.0 - eps) * base + eps / len(states)
    return probs / probs.sum(), eps


def draw(
    states: Sequence[ArmState], probs: np.ndarray, eps: float, policy: str, rng: np.random.Generator
) -> Choice:
    """Draw one arm from a probability vector computed by `policy_probabilities` (reusable while the
    posteriors do not change, e.g. for a batch of decisions planned together)."""
    idx = int(rng.choice(len(states), p=probs))
    return Choice(
        scope=states[idx].scope,
        arm=states[idx].arm,
        propensity=float(probs[idx]),
        policy=policy,
        epsilon=eps,
        probabilities={s.arm: float(p) for s, p in zip(states, probs, strict=True)},
    )


def choose(
    states: Sequence[ArmState], cfg: BanditConfig, rng: np.random.Generator, policy: str | None = None
) -> Choice:
    """Choose one arm of a scope and return it with its propensity (the probability it was drawn with)."""
    pol = policy or cfg.policy(states[0].scope if states else "?")
    probs, eps = policy_probabilities(states, pol, cfg, rng)
    return draw(states, probs, eps, pol, rng)


def explore_probability(
    states: Sequence[ArmState], cfg: BanditConfig, rng: np.random.Generator, policy: str | None = None
) -> float:
    """P(next choice is not the arm with the best posterior mean): how much the scope still explores."""
    probs, _ = policy_probabilities(states, policy or cfg.policy(states[0].scope), cfg, rng)
    best = int(np.argmax([s.mean for s in states]))
    return float(1.0 - probs[best])
