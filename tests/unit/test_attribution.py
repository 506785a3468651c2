"""Follow attribution from snapshots: numbers computed by hand, plus invariants."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xbot_core.domain.attribution import (
    AttributionConfig,
    PostWindow,
    Snapshot,
    attribute_follows,
    confidence_of,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def snaps(*pairs: tuple[float, int]) -> list[Snapshot]:
    return [Snapshot(h(t), f) for t, f in pairs]


def test_single_post_gets_growth_inside_its_window_only() -> None:
    # [0,1]: +6 and [1,24]: +24 inside the window; [24,30]: +10 is organic
    out = attribute_follows(
        [PostWindow("a", h(0))], snaps((0, 100), (1, 106), (24, 130), (30, 140)), until=h(30)
    )
    a = out["a"]
    assert a.follows == pytest.approx(30.0, abs=1e-9)
    assert (a.overlapping, a.confidence) == (1, "high")
    assert a.covered_s == pytest.approx(24 * 3600)


def test_overlapping_windows_split_the_shared_stretch() -> None:
    # A [0,24], B [12,36]: [0,12] +12 -> A; [12,24] +24 -> 12 each; [24,36] +12 -> B
    posts = [PostWindow("a", h(0)), PostWindow("b", h(12))]
    out = attribute_follows(posts, snaps((0, 100), (12, 112), (24, 136), (36, 148)), until=h(36))
    assert round(out["a"].follows, 5) == 24.0
    assert round(out["b"].follows, 5) == 24.0
    assert out["a"].confidence == out["b"].confidence == "medium"


def test_growth_is_uniform_within_an_interval_and_quiet_stretches_are_organic() -> None:
    # A at 6h. [0,12] +12: only [6,12] is in A's window -> 12*6/12 = 6. [12,30] +18 -> 18. [30,36] organic.
    out = attribute_follows(
        [PostWindow("a", h(6))], snaps((0, 100), (12, 112), (30, 130), (36, 131)), until=h(36)
    )
    assert round(out["a"].follows, 5) == 24.0
    assert out["a"].covered_s == pytest.approx(24 * 3600)


def test_unequal_sharing_inside_one_interval() -> None:
    # one interval [0,24] with +24 (1/h). A at 0 covers it all; B at 12 covers [12,24].
    # [0,12]: 12 -> A. [12,24]: 12 split -> 6 each. A = 18, B = 6.
    posts = [PostWindow("a", h(0)), PostWindow("b", h(12))]
    out = attribute_follows(posts, snaps((0, 0), (24, 24)), until=h(24))
    assert round(out["a"].follows, 5) == 18.0
    assert round(out["b"].follows, 5) == 6.0


def test_net_loss_attributes_zero_and_uncovered_window_is_unknown() -> None:
    posts = [PostWindow("a", h(0)), PostWindow("late", h(50))]
    out = attribute_follows(posts, snaps((0, 100), (24, 90)), until=h(60))
    assert out["a"].follows == 0.0
    assert out["late"].follows is None  # no snapshot after 50 h: unknown, never 0
    assert out["late"].confidence == "high"


def test_snapshots_after_until_are_not_used() -> None:
    out = attribute_follows([PostWindow("a", h(0))], snaps((0, 100), (1, 103), (2, 110)), until=h(1.5))
    assert out["a"].follows == pytest.approx(3.0)


def test_confidence_levels() -> None:
    assert [confidence_of(n) for n in (1, 2, 5, 6, 40)] == ["high", "medium", "medium", "low", "low"]
    with pytest.raises(ValueError):
        confidence_of(0)
    # six posts one hour apart all share their windows -> low
    posts = [PostWindow(i, h(i)) for i in range(6)]
    out = attribute_follows(posts, snaps((0, 0), (30, 60)), until=h(30))
    assert {a.confidence for a in out.values()} == {"low"}
    assert {a.overlapping for a in out.values()} == {6}
    # windows exactly 24 h apart do not overlap
    out = attribute_follows([PostWindow("a", h(0)), PostWindow("b", h(24))], [], until=h(48))
    assert out["a"].confidence == "high" and out["a"].follows is None


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="unique"):
        attribute_follows([PostWindow("a", h(0)), PostWindow("a", h(1))], [], until=h(2))
    with pytest.raises(ValueError, match="negative follower count"):
        attribute_follows([PostWindow("a", h(0))], snaps((0, -1), (1, 3)), until=h(2))


@settings(max_examples=200, deadline=None)
@given(
    post_hours=st.lists(st.integers(0, 72), min_size=1, max_size=8, unique=True),
    snap=st.lists(st.tuples(st.integers(0, 100), st.integers(0, 10_000)), min_size=0, max_size=12),
)
def test_never_attributes_more_than_the_observed_growth(
    post_hours: list[int], snap: list[tuple[int, int]]
) -> None:
    snapshots = sorted({t: Snapshot(h(t), f) for t, f in snap}.values(), key=lambda s: s.taken_at)
    posts = [PostWindow(t, h(t)) for t in post_hours]
    out = attribute_follows(posts, snapshots, until=h(100))
    growth = sum(max(0, b.followers - a.followers) for a, b in itertools.pairwise(snapshots))
    total = sum(a.follows or 0.0 for a in out.values())
    assert total <= growth + 1e-6
    assert all(a.follows is None or a.follows >= 0 for a in out.values())
    assert all(a.covered_s <= 24 * 3600 + 1e-6 for a in out.values())


@settings(max_examples=100, deadline=None)
@given(fs=st.lists(st.integers(0, 10_000), min_size=2, max_size=10))
def test_a_lone_post_gets_all_growth_inside_its_window(fs: list[int]) -> None:
    # snapshots every 2 h from the post on: everything up to 24 h is the post's
    snapshots = [Snapshot(h(2 * i), f) for i, f in enumerate(fs)]
    out = attribute_follows([PostWindow("a", h(0))], snapshots, until=h(100), config=AttributionConfig())
    inside = [s for s in snapshots if s.taken_at <= h(24)]
    growth = sum(max(0, b.followers - a.followers) for a, b in itertools.pairwise(inside))
    assert out["a"].follows == pytest.approx(growth)
