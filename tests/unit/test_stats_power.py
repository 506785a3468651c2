"""Power, MDE and sample size of the pooled two-sample t-test, pinned to R's power.t.test and statsmodels.

References: R `power.t.test(n = 20, delta = 1)` → power 0.8689528 and `power.t.test(power = .90, delta = 1)`
→ n = 22.02110 per group (the examples of R's own help page); statsmodels' TTestIndPower (noncentral t,
its own root finder) for unequal arms, one-sided tests and other levels.
"""

from __future__ import annotations

import math

import pytest

from xbot_core.domain.stats import mde, posts_needed, power, summarise_power
from xbot_core.errors import StatsError


def test_power_matches_r_power_t_test():
    # equal arms of 20, effect 1 sd: cv = 1 and lift = 1 give d = 1
    assert round(power(20, 20, cv=1.0, lift=1.0), 6) == 0.868953
    assert round(power(20, 20, cv=0.5, lift=0.5), 6) == 0.868953  # only lift / cv matters


def test_sample_size_matches_r_power_t_test():
    # R: n = 22.02110 per group for power 0.9 at delta = sd → 44.04 in all, so 45 whole posts
    assert posts_needed(1.0, share=0.5, cv=1.0, power=0.9) == 45
    assert round(mde(22.02110, 22.02110, cv=1.0, power=0.9), 5) == 1.0


# (n_control, n_treatment, cv) → MDE and power at +50 %, from statsmodels 0.15 TTestIndPower:
# solve_power(effect_size=None, nobs1=n_c, ratio=n_t/n_c, alpha=.05, power=.8) · cv and power(0.5/cv, ...)
STATSMODELS = [
    ((10.5, 4.5, 0.8), 1.36635, 0.17728),
    ((12.8, 3.2, 0.8), 1.50663, 0.15405),
    ((100, 30, 0.6), 0.35257, 0.97794),
]


@pytest.mark.parametrize(("arms", "want_mde", "want_power"), STATSMODELS)
def test_unequal_arms_match_statsmodels(arms, want_mde, want_power):
    n_c, n_t, cv = arms
    assert round(mde(n_c, n_t, cv), 5) == want_mde
    assert round(power(n_c, n_t, cv, 0.5), 5) == want_power


def test_against_statsmodels_live():
    from statsmodels.stats.power import TTestIndPower

    ref = TTestIndPower()
    for n_c, n_t, cv in [(7, 3, 0.9), (40, 10, 1.3), (15, 15, 0.4)]:
        d = ref.solve_power(
            effect_size=None, nobs1=n_c, ratio=n_t / n_c, alpha=0.1, power=0.9, alternative="larger"
        )
        assert mde(n_c, n_t, cv, alpha=0.1, power=0.9, two_sided=False) == pytest.approx(d * cv, rel=1e-5)
        assert power(n_c, n_t, cv, 0.3) == pytest.approx(
            ref.power(0.3 / cv, n_c, 0.05, ratio=n_t / n_c), abs=1e-9
        )


def test_invariants():
    # power at the MDE is the target; more posts → smaller MDE; the sign of the lift does not matter
    m = mde(30, 10, 0.7)
    assert power(30, 10, 0.7, m) == pytest.approx(0.8, abs=1e-9)
    assert mde(60, 20, 0.7) < m
    assert power(30, 10, 0.7, -0.4) == power(30, 10, 0.7, 0.4)
    assert power(30, 10, 0.7, 0.0) == pytest.approx(0.05, abs=1e-12)  # size of the test
    # posts_needed is the smallest total reaching the target
    n = posts_needed(0.25, share=0.3, cv=0.8)
    assert mde(n * 0.7, n * 0.3, 0.8) <= 0.25 < mde((n - 1) * 0.7, (n - 1) * 0.3, 0.8)


def test_the_default_pilot_only_sees_very_large_effects():
    # 2 days × 8 posts at 30 %: 11.2 control and 4.8 treatment posts; at cv 0.8 the MDE is above +100 %
    assert mde(11.2, 4.8, 0.8) > 1.0


def test_summary_counts_the_posts_still_needed():
    s = summarise_power(11.2, 4.8, cv=0.8, share=0.3, target_mde=0.3)
    assert s.posts_needed == posts_needed(0.3, 0.3, 0.8)
    assert s.more_posts == s.posts_needed - 16
    assert s.power_at_target == pytest.approx(power(11.2, 4.8, 0.8, 0.3))
    assert math.isclose(s.mde, mde(11.2, 4.8, 0.8))


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((1, 1, 0.5), {}, "at least 1 post per arm and 3"),
        ((10, 0, 0.5), {}, "at least 1 post per arm"),
        ((10, 5, 0.0), {}, "cv"),
        ((10, 5, math.nan), {}, "cv"),
        ((10, 5, 0.5), {"alpha": 1.5}, "alpha"),
        ((10, 5, 0.5), {"power": 0.01}, "power must lie"),
    ],
)
def test_bad_input_is_one_clear_error(args, kwargs, message):
    with pytest.raises(StatsError, match=message):
        mde(*args, **kwargs)


def test_bad_share_or_target():
    with pytest.raises(StatsError, match="share"):
        posts_needed(0.3, share=1.0, cv=0.5)
    with pytest.raises(StatsError, match="target MDE"):
        posts_needed(-0.1, share=0.3, cv=0.5)
