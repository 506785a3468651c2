"""The experiment override rule: treatment forces T, control follows the bandit, the marginal is logged."""

from __future__ import annotations

import numpy as np
import pytest

from xbot_core.domain.bandit import ArmState
from xbot_core.domain.override import (
    EXPERIMENT_POLICY,
    experiment_choice,
    marginal_probabilities,
    marginal_propensity,
)
from xbot_core.errors import ConfigError

ARMS = ("a", "b", "t", "d")
STATES = tuple(ArmState(scope="hook_pattern", arm=a, alpha=1.0, beta=1.0) for a in ARMS)
BANDIT = np.array([0.1, 0.2, 0.3, 0.4])


def test_marginal_probabilities_by_hand() -> None:
    # 0.7·[0.1, 0.2, 0.3, 0.4] + 0.3·[0, 0, 1, 0] = [0.07, 0.14, 0.21 + 0.3, 0.28]
    out = marginal_probabilities(BANDIT, 2, 0.3)
    assert [round(float(p), 5) for p in out] == [0.07, 0.14, 0.51, 0.28]
    assert round(float(out.sum()), 12) == 1.0
    assert [round(float(p), 5) for p in BANDIT] == [0.1, 0.2, 0.3, 0.4]  # the input is not modified


def test_marginal_propensity_by_hand() -> None:
    # the live planner used to log 0.3 for T and 0.7·π_b(a) for control arms
    assert round(marginal_propensity("t", "t", 0.3, 0.2), 5) == 0.44  # 0.3 + 0.7·0.2
    assert round(marginal_propensity("a", "t", 0.3, 0.2), 5) == 0.14  # 0.7·0.2
    assert round(marginal_propensity("t", "t", 0.2, 0.0), 5) == 0.2  # T never drawn by the bandit
    assert round(marginal_propensity("t", "t", 0.2, 1.0), 5) == 1.0  # T always drawn by the bandit


def test_treatment_takes_t_with_the_marginal_and_draws_nothing() -> None:
    rng = np.random.default_rng(5)
    before = rng.bit_generator.state
    c = experiment_choice(
        STATES, BANDIT, 0.05, "thompson", variant="treatment", treatment_arm="t", share=0.3, rng=rng
    )
    assert (c.arm, round(c.propensity, 5), c.policy, c.epsilon) == ("t", 0.51, EXPERIMENT_POLICY, 0.05)
    assert {a: round(p, 5) for a, p in c.probabilities.items()} == {
        "a": 0.07,
        "b": 0.14,
        "t": 0.51,
        "d": 0.28,
    }
    assert rng.bit_generator.state == before


def test_control_can_draw_the_treatment_arm() -> None:
    only_t = np.array([0.0, 0.0, 1.0, 0.0])
    c = experiment_choice(
        STATES,
        only_t,
        0.0,
        "thompson",
        variant="control",
        treatment_arm="t",
        share=0.3,
        rng=np.random.default_rng(0),
    )
    assert (c.arm, round(c.propensity, 5), c.policy) == ("t", 1.0, "thompson")  # 0.3 + 0.7·1


def test_logged_propensity_is_the_true_frequency_and_ips_is_unbiased() -> None:
    """200,000 decisions through assignment + override: each arm's frequency matches its marginal, and
    E[1[a = j] / propensity] = 1 for every arm j (what OPE relies on)."""
    rng = np.random.default_rng(11)
    n, share = 200_000, 0.3
    treated = rng.uniform(size=n) < share
    counts = dict.fromkeys(ARMS, 0)
    ips = dict.fromkeys(ARMS, 0.0)
    for t in treated[:20_000]:  # the per-decision function on a slice, the frequencies on the whole
        c = experiment_choice(
            STATES,
            BANDIT,
            0.0,
            "thompson",
            variant="treatment" if t else "control",
            treatment_arm="t",
            share=share,
            rng=rng,
        )
        counts[c.arm] += 1
        ips[c.arm] += 1.0 / c.propensity
    for arm, p in zip(ARMS, marginal_probabilities(BANDIT, 2, share), strict=True):
        assert abs(counts[arm] / 20_000 - p) < 0.012  # 3.5 binomial sd at p = 0.51
        assert abs(ips[arm] / 20_000 - 1.0) < 0.06
    bandit_draws = rng.choice(4, size=n, p=BANDIT)
    chosen = np.where(treated, 2, bandit_draws)
    freq = np.bincount(chosen, minlength=4) / n
    assert np.allclose(freq, marginal_probabilities(BANDIT, 2, share), atol=0.004)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"share": 1.0}, "share must be in"),
        ({"share": 0.0}, "share must be in"),
        ({"treatment_arm": "zzz"}, "treatment arm 'zzz' is not one of"),
        ({"variant": "both"}, "unknown variant 'both'"),
    ],
)
def test_bad_input_is_a_config_error(kwargs: dict[str, object], needle: str) -> None:
    args: dict[str, object] = {"variant": "control", "treatment_arm": "t", "share": 0.3, **kwargs}
    with pytest.raises(ConfigError, match=needle):
        experiment_choice(STATES, BANDIT, 0.0, "thompson", rng=np.random.default_rng(0), **args)  # type: ignore[arg-type]


def test_marginal_input_checks() -> None:
    with pytest.raises(ConfigError, match="treatment arm index 4"):
        marginal_probabilities(BANDIT, 4, 0.3)
    with pytest.raises(ConfigError, match="bandit probability must be in"):
        marginal_propensity("t", "t", 0.3, 1.5)
