"""Per-scope bandit: pinned posteriors and propensities, invariants, delayed feedback, regret."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from xbot_core.domain import bandit as b
from xbot_core.errors import ConfigError

CFG = b.BanditConfig()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def obs(
    decision: str, arm: str, reward: float, weight: float = 1.0, p: int = 2, minute: int = 0
) -> b.Observation:
    return b.Observation(decision, arm, p, reward, weight, T0 + timedelta(minutes=minute))


def test_epsilon_schedule() -> None:
    # linear 0.20 → 0.05 over 100 samples: 0.20 − 0.15·n/100
    assert [round(b.epsilon(n, CFG), 5) for n in (0, 50, 100, 500)] == [0.2, 0.125, 0.05, 0.05]
    assert round(b.epsilon(6, CFG), 5) == 0.191


def test_contribution_clips_and_weights() -> None:
    assert b.contribution(0.8, 0.5) == pytest.approx((0.4, 0.1), abs=1e-12)
    assert b.contribution(1.7, 1.0) == (1.0, 0.0)
    assert b.contribution(-0.3, 1.0) == (0.0, 1.0)
    # scaled by the versioned constant: 1.7 / 3 = 0.56667; beyond the scale the guard still clips
    assert b.contribution(1.7, 1.0, 3.0) == pytest.approx((0.56667, 0.43333), abs=1e-5)
    assert b.contribution(4.5, 2.0, 3.0) == (2.0, 0.0)
    assert (b.REWARD_SCALING_VERSION, CFG.reward_scale) == (2, 3.0)
    with pytest.raises(ValueError):
        b.contribution(math.nan, 1.0)


def test_fit_scope_pinned() -> None:
    states = b.fit_scope(
        "hook_pattern",
        ["a", "b", "c"],
        [obs("d1", "a", 0.8, 0.5), obs("d2", "a", 0.3, 1.0), obs("d3", "b", 1.4, 0.25, p=1)],
        CFG,
    )
    a, bb, c = states
    # by hand, rewards / 3: a: alpha 1 + 0.5·0.8/3 + 0.3/3 = 1.23333,
    # beta 1 + 0.5·(1 − 0.8/3) + 0.9 = 2.26667;
    # b: alpha 1 + 0.25·1.4/3 = 1.11667, beta 1 + 0.25·(1 − 1.4/3) = 1.13333 (1.4 is no longer clipped)
    assert (round(a.alpha, 5), round(a.beta, 5), a.pulls) == (1.23333, 2.26667, 2)
    assert (round(bb.alpha, 5), round(bb.beta, 5), bb.pulls, bb.provisional) == (1.11667, 1.13333, 1, 1)
    assert (c.alpha, c.beta, c.pulls) == (1.0, 1.0, 0)
    assert round(a.sum_reward, 5) == 1.1


def test_pass_two_replaces_pass_one_in_rebuild() -> None:
    both = b.fit_scope("s", ["a", "b"], [obs("d1", "a", 0.2, 0.3, p=1), obs("d1", "a", 0.9, 1.0, p=2)], CFG)
    only2 = b.fit_scope("s", ["a", "b"], [obs("d1", "a", 0.9, 1.0, p=2)], CFG)
    assert both == only2
    assert both[0].pulls == 1 and both[0].provisional == 0


def test_pass_two_replaces_pass_one_incrementally() -> None:
    start = tuple(b.prior("s", arm, CFG) for arm in ("a", "b"))
    p1, p2 = obs("d1", "a", 0.2, 0.3, p=1), obs("d1", "a", 0.9, 1.0, p=2)
    after1 = b.apply_feedback(start, p1, CFG)
    assert after1[0].provisional == 1
    after2 = b.apply_feedback(after1, p2, CFG, previous=p1)
    direct = b.apply_feedback(start, p2, CFG)
    for x, y in zip(after2, direct, strict=True):
        assert x.pulls == y.pulls and x.provisional == y.provisional == 0
        assert x.alpha == pytest.approx(y.alpha, abs=1e-12) and x.beta == pytest.approx(y.beta, abs=1e-12)
    # incremental equals a rebuild from scratch
    rebuilt = b.fit_scope("s", ["a", "b"], [p1, p2], CFG)
    assert [round(s.alpha, 12) for s in after2] == [round(s.alpha, 12) for s in rebuilt]


def test_discounting_pinned_and_incremental_matches_rebuild() -> None:
    cfg = b.BanditConfig(discount=0.5)
    seq = [obs("d1", "a", 1.0, minute=0), obs("d2", "a", 1.0, minute=1), obs("d3", "b", 0.0, minute=2)]
    fit = b.fit_scope("s", ["a", "b"], seq, cfg)
    # by hand: a successes (0.5² + 0.5¹)·1/3 = 0.25; b failures 1
    assert (round(fit[0].successes, 5), round(fit[1].failures, 5)) == (0.25, 1.0)
    states = tuple(b.prior("s", arm, cfg) for arm in ("a", "b"))
    for o in seq:
        states = b.apply_feedback(states, o, cfg)
    assert [round(s.alpha, 12) for s in states] == [round(s.alpha, 12) for s in fit]
    assert [round(s.beta, 12) for s in states] == [round(s.beta, 12) for s in fit]


def test_unknown_arm_is_rejected() -> None:
    with pytest.raises(ValueError, match="not in scope"):
        b.fit_scope("s", ["a"], [obs("d1", "zz", 0.5)], CFG)


def exact_thompson(alpha: list[float], beta: list[float]) -> list[float]:
    """P(arm i has the largest Beta draw) by numerical integration (scipy)."""
    out = []
    for i in range(len(alpha)):

        def f(x: float, i: int = i) -> float:
            val = stats.beta(alpha[i], beta[i]).pdf(x)
            for j in range(len(alpha)):
                if j != i:
                    val *= stats.beta(alpha[j], beta[j]).cdf(x)
            return float(val)

        out.append(integrate.quad(f, 0, 1)[0])
    return out


def test_thompson_probabilities_match_scipy() -> None:
    # two arms: P(Beta(3,2) > Beta(2,3)) = 53/70
    exact = exact_thompson([3, 2], [2, 3])
    assert [round(p, 5) for p in exact] == [0.75714, 0.24286]
    mc = b.thompson_probabilities(
        np.array([3.0, 2.0]), np.array([2.0, 3.0]), 400_000, np.random.default_rng(3)
    )
    assert mc == pytest.approx(exact, abs=0.003)
    alpha, beta = [2.0, 5.0, 3.5], [4.0, 3.0, 3.5]
    exact3 = exact_thompson(alpha, beta)
    assert sum(exact3) == pytest.approx(1.0, abs=1e-6)
    mc3 = b.thompson_probabilities(np.array(alpha), np.array(beta), 400_000, np.random.default_rng(4))
    assert mc3 == pytest.approx(exact3, abs=0.003)


def test_thompson_choice_propensity_is_the_mixed_probability() -> None:
    states = (b.ArmState("s", "a", 3, 2, pulls=2), b.ArmState("s", "b", 2, 3, pulls=2))
    choice = b.choose(states, CFG, np.random.default_rng(11))
    eps = b.epsilon(4, CFG)  # 0.194
    exact = exact_thompson([3, 2], [2, 3])
    want = {"a": (1 - eps) * exact[0] + eps / 2, "b": (1 - eps) * exact[1] + eps / 2}
    # 10,000 draws: standard error ≤ 0.005; allow 4σ
    assert choice.probabilities == pytest.approx(want, abs=0.02)
    assert choice.propensity == choice.probabilities[choice.arm]
    # by hand: 0.806 · 53/70 + 0.194/2 = 0.61026 + 0.097
    assert round(want["a"], 5) == 0.70726


def test_ucb1_closed_form() -> None:
    states = (
        b.ArmState("s", "a", 4, 2, successes=3, failures=1, pulls=4),
        b.ArmState("s", "b", 2, 2, successes=1, failures=1, pulls=2),
    )
    # by hand: N = 6, ln 6 = 1.791759; a: 0.75 + sqrt(2·1.791759/4) = 1.69650;
    #          b: 0.5 + sqrt(2·1.791759/2) = 1.83857
    # ε(6) = 0.191 → P(b) = 0.809 + 0.0955 = 0.9045, P(a) = 0.0955
    choice = b.choose(states, CFG, np.random.default_rng(0), policy="ucb1")
    assert {k: round(v, 5) for k, v in choice.probabilities.items()} == {"a": 0.0955, "b": 0.9045}


def test_ucb1_unplayed_arms_first_and_greedy_ties_split() -> None:
    states = (
        b.ArmState("s", "a", 4, 2, successes=3, failures=1, pulls=4),
        b.ArmState("s", "b", 1, 1),
        b.ArmState("s", "c", 1, 1),
    )
    p = b.policy_probabilities(states, "ucb1", CFG, np.random.default_rng(0))[0]
    eps = b.epsilon(4, CFG)
    assert [round(x, 5) for x in p] == [round(eps / 3, 5)] + [round((1 - eps) / 2 + eps / 3, 5)] * 2
    tied = (b.ArmState("s", "a", 2, 2), b.ArmState("s", "b", 3, 3), b.ArmState("s", "c", 1, 3))
    g = b.policy_probabilities(tied, "epsilon_greedy", CFG, np.random.default_rng(0))[0]
    # ε(0) = 0.2: tied a, b get 0.4 + 0.2/3 each, c gets 0.2/3
    assert [round(x, 5) for x in g] == [0.46667, 0.46667, 0.06667]


arm_states = st.lists(
    st.tuples(st.floats(0.1, 200), st.floats(0.1, 200), st.integers(0, 300)), min_size=1, max_size=6
)


@settings(max_examples=40, deadline=None)
@given(raw=arm_states, policy=st.sampled_from(b.POLICIES), seed=st.integers(0, 2**32 - 1))
def test_probabilities_sum_to_one_and_propensity_in_range(
    raw: list[tuple[float, float, int]], policy: str, seed: int
) -> None:
    states = tuple(
        b.ArmState("s", f"arm{i}", a, bt, successes=a - 0.1, failures=bt - 0.1, pulls=n)
        for i, (a, bt, n) in enumerate(raw)
    )
    choice = b.choose(states, CFG, np.random.default_rng(seed), policy=policy)
    assert sum(choice.probabilities.values()) == pytest.approx(1.0, abs=1e-9)
    assert 0 < choice.propensity <= 1
    again = b.choose(states, CFG, np.random.default_rng(seed), policy=policy)
    assert (again.arm, again.propensity) == (choice.arm, choice.propensity)


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="mc_draws must be ≥ 10000"):
        b.BanditConfig(mc_draws=500)
    with pytest.raises(ConfigError, match="unknown policy 'softmax'"):
        b.BanditConfig(policies={"hook_pattern": "softmax"})
    with pytest.raises(ConfigError, match="discount"):
        b.BanditConfig(discount=1.5)


def _regret(policy: str, rng: np.random.Generator, means: np.ndarray, rounds: int) -> float:
    arms = [f"a{i}" for i in range(len(means))]
    states = tuple(b.prior("s", arm, CFG) for arm in arms)
    regret = 0.0
    for t in range(rounds):
        if policy == "uniform":
            i = int(rng.integers(len(arms)))
        else:
            i = arms.index(b.choose(states, CFG, rng, policy=policy).arm)
        regret += means.max() - means[i]
        r = float(rng.random() < means[i])
        states = b.apply_feedback(states, b.Observation(f"d{t}", arms[i], 2, r, 1.0), CFG)
    return regret


@pytest.mark.slow
def test_thompson_regret_is_below_a_quarter_of_uniform() -> None:
    means = np.array([0.10, 0.20, 0.30, 0.40, 0.55])
    ts = _regret("thompson", np.random.default_rng(2026), means, 2000)
    uni = _regret("uniform", np.random.default_rng(2026), means, 2000)
    assert ts < 0.25 * uni, (ts, uni)
