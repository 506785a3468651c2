"""Which collected metrics a reward version needs, and which of them a collected pass lacks.

A pass that lacks a needed metric is *incomplete*: it is stored with the names of what is missing, and
learning leaves it out (and says how many). Impressions are needed whenever any rate term has a weight,
because every normalised term divides by them; a metric whose weight is 0 is not needed. Novelty and the
duplicate penalty come from generation, not collection, and are not collected metrics.
"""

from __future__ import annotations

from collections.abc import Mapping

from xbot_core.domain.reward import RewardVersion

# (metric column, weight field of the reward version) in the order they are reported
RATE_TERMS: tuple[tuple[str, str], ...] = (
    ("follows", "w_fpki"),
    ("retweets", "w_retweet"),
    ("replies", "w_reply"),
)
COLLECTED_METRICS: tuple[str, ...] = ("impressions", *(m for m, _ in RATE_TERMS))


def required_metrics(v: RewardVersion) -> tuple[str, ...]:
    """The collected metrics version `v` needs: each rate metric with a non-zero weight, plus impressions."""
    rates = tuple(metric for metric, weight in RATE_TERMS if getattr(v, weight) != 0)
    return ("impressions", *rates) if rates else ()


def missing_metrics(v: RewardVersion, values: Mapping[str, float | int | None]) -> tuple[str, ...]:
    """The needed metrics unknown (None or absent) in `values`, in the order of `required_metrics`."""
    return tuple(name for name in required_metrics(v) if values.get(name) is None)


def incomplete_share(incomplete: int, total: int) -> float | None:
    """incomplete / total; None when no pass was collected (no share to report)."""
    if incomplete < 0 or total < 0 or incomplete > total:
        raise ValueError(f"need 0 <= incomplete <= total, got {incomplete} of {total}")
    return None if total == 0 else incomplete / total
