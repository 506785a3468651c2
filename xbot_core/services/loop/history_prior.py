"""The history prior of the learn step: an account's imported original posts, their arms by the history rules
(domain/history_arms.py), their rewards under the active reward version, as per-arm pseudo-counts
(domain/history_prior.py). Read in the learn step's transaction; imported data is real, so it only ever
starts real posteriors."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from xbot_core.adapters.db import history_repo
from xbot_core.domain.bandit import BanditConfig
from xbot_core.domain.catalog import SCOPES, ArmCatalog
from xbot_core.domain.history_arms import history_arms
from xbot_core.domain.history_prior import HistoryObservation, check_weight, history_novelty, prior_counts
from xbot_core.domain.metrics import exposure_weight
from xbot_core.domain.reward import RewardVersion, reward
from xbot_core.errors import ConfigError
from xbot_core.services.operations.classify import cached_labels


@dataclass(frozen=True)
class HistoryPrior:
    """Per scope and arm, the (alpha, beta) pseudo-counts to add; how many posts fed them, and left out."""

    weight: float
    posts: int  # original posts with a computable reward (each counts in every scope where its arm is known)
    replies: int
    without_reward: int  # e.g. an export without follows: no reward, left out
    counts: dict[str, dict[str, tuple[float, float]]]

    @property
    def note(self) -> str:
        """The learning run log's words for it."""
        return (
            f"prior=history posts={self.posts} weight={self.weight:g} "
            f"(left out: replies {self.replies}, no reward {self.without_reward})"
        )


def load_prior(
    conn: psycopg.Connection,
    account_id: int,
    v: RewardVersion,
    weight: float,
    cfg: BanditConfig,
    catalog: ArmCatalog,
) -> HistoryPrior:
    """The account's history prior; ConfigError naming what to do when it has no imported history."""
    try:
        check_weight(weight)
    except ValueError as exc:
        raise ConfigError(f"--prior-weight: {exc}") from None
    rows = history_repo.prior_posts(conn, account_id)
    if not rows:
        raise ConfigError(
            "no imported history for this account: run `xbot import x-analytics PATH --account HANDLE` "
            "before `xbot learn --prior-from-history`"
        )
    originals = [r for r in rows if not r["is_reply"]]
    labels = cached_labels(conn, [r["text"] for r in originals])  # `--classify llm` labels win over rules
    novelty = history_novelty([(r["text"], r["posted_at"]) for r in originals])
    history: list[HistoryObservation] = []
    for r, (nov, dup) in zip(originals, novelty, strict=True):
        rew = reward(
            v,
            impressions=r["impressions"],
            follows=r["follows"],
            retweets=r["reposts"],
            replies=r["replies"],
            novelty=nov,
            dup_penalty=dup,
        )
        if rew is None:
            continue
        arms = history_arms(r["text"], r["posted_at"], r["time_known"], r["timezone"])
        w = exposure_weight(r["impressions"], v.exposure_cap)
        assert w is not None  # a computable reward has impressions
        content = labels.get(r["text"], arms.content_type)
        by_scope = {"content_type": content, "hook_pattern": arms.hook_pattern}
        history.append(HistoryObservation(by_scope | {"timing_slot": arms.timing_slot}, rew, w))
    counts = {
        scope: {
            arm: (c.successes, c.failures)
            for arm, c in prior_counts(scope, catalog.arms(scope), history, weight, cfg).items()
        }
        for scope in SCOPES
    }
    return HistoryPrior(
        weight=weight,
        posts=len(history),
        replies=len(rows) - len(originals),
        without_reward=len(originals) - len(history),
        counts=counts,
    )
