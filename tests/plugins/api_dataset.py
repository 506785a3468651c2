"""The API's known dataset: seeded through the repositories, kept as plain records for the expectations."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from xbot_core.adapters.db import repositories as repo
from xbot_core.domain import completeness, metrics
from xbot_core.domain.reward import DEFAULT_VERSION
from xbot_core.domain.text import content_hash
from xbot_core.settings import Settings

API_HANDLE = "xbot_api_test"
# plain INSERTs only for tables no repository writes yet (bandit_arms, training_runs, llm budget/usage)
AS_OF = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)  # 10:00 in the account's zone (America/New_York)
ACCOUNT_TZ = "America/New_York"


@dataclass
class ApiDataset:
    """The seeded rows as plain Python records: tests compute their expectations from these."""

    account_id: int
    posts: list[dict[str, Any]] = field(default_factory=list)  # posted decisions
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    others: list[dict[str, Any]] = field(default_factory=list)  # decisions never posted
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    arms: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    budget_days: list[dict[str, Any]] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)
    kill_switch: bool = False


def _decision(
    account_id: int, text: str | None, at: datetime, simulated: bool, **over: Any
) -> repo.DecisionRow:
    fields: dict[str, Any] = {
        "decision_id": uuid.uuid4(),
        "account_id": account_id,
        "content": text,
        "content_hash": content_hash(text) if text else None,
        "status": "queued",
        "skip_reason": None,
        "generation_source": "real",
        "simulated": simulated,
        "scheduled_at": at,
        "content_type": "tip",
        "hook_pattern": "how_to",
        "timing_slot": "morning",
        "policy": "thompson",
        "propensity": 0.5,
    }
    return repo.DecisionRow(**(fields | over))


def _post(
    conn: psycopg.Connection,
    ds: ApiDataset,
    n: int,
    posted_at: datetime,
    *,
    simulated: bool = False,
    novelty: float | None = None,
) -> uuid.UUID:
    """Queue, claim and record one post the way the posting service does."""
    row = _decision(ds.account_id, f"post number {n}", posted_at, simulated, novelty=novelty)
    assert repo.insert_decision(conn, row)
    claimed = repo.claim_next(conn, ds.account_id, now=posted_at, worker="seed", lease_s=60)
    assert claimed is not None and claimed.decision_id == row.decision_id
    tweet_id = str(1_000_000 + n)
    repo.record_posted(
        conn,
        decision_id=row.decision_id,
        account_id=ds.account_id,
        tweet_id=tweet_id,
        post_url=None,
        posted_at=posted_at,
        worker="seed",
    )
    ds.posts.append(
        {
            "decision_id": row.decision_id,
            "tweet_id": tweet_id,
            "content": row.content,
            "novelty": novelty,
            "posted_at": posted_at,
            "simulated": simulated,
        }
    )
    return row.decision_id


def _outcome(
    conn: psycopg.Connection,
    ds: ApiDataset,
    decision_id: uuid.UUID,
    collected_pass: int,
    collected_at: datetime,
    *,
    simulated: bool = False,
    status: str = "ok",
    impressions: int | None = None,
    likes: int | None = None,
    retweets: int | None = None,
    replies: int | None = None,
    follows: float | None = None,
    reward: float | None = None,
) -> None:
    row = repo.OutcomeRow(
        decision_id=decision_id,
        collected_pass=collected_pass,
        account_id=ds.account_id,
        due_at=collected_at,
        collected_at=collected_at,
        simulated=simulated,
        status=status,
        unavailable_reason="deleted" if status != "ok" else None,
        impressions=impressions,
        likes=likes,
        retweets=retweets,
        replies=replies,
        follows=follows,
        follows_source="analytics" if follows is not None else None,
        er=metrics.er(likes, retweets, replies, impressions),
        fpki=metrics.fpki(follows, impressions),
        retweet_rate=metrics.retweet_rate(retweets, impressions),
        reply_rate=metrics.reply_rate(replies, impressions),
        reward_composite=reward,
        reward_version=1 if reward is not None else None,
    )
    if status == "ok":  # judged as the collector does, under the default (active) version
        missing = completeness.missing_metrics(DEFAULT_VERSION, dataclasses.asdict(row))
        row = dataclasses.replace(row, missing_metrics=list(missing))
    repo.upsert_outcome(conn, row)
    ds.outcomes.append(dataclasses.asdict(row))


def seed_api_dataset(url: str, budget_day: date) -> ApiDataset:
    """Posts across three weeks around AS_OF, outcomes (pass 1/2, late, unavailable), snapshots, arms, runs,
    today's LLM budget and usage, skipped/failed/queued decisions; real and simulated side by side."""
    h = timedelta(hours=1)
    d = timedelta(days=1)
    with psycopg.connect(url) as conn:
        ds = ApiDataset(repo.ensure_account(conn, API_HANDLE, "http://127.0.0.1:1", None, ACCOUNT_TZ))
        # this week (as_of - 7d, as_of]
        p1 = _post(conn, ds, 1, AS_OF - 1 * d, novelty=0.8)
        _outcome(
            conn,
            ds,
            p1,
            1,
            AS_OF - 1 * d + h,
            impressions=400,
            likes=20,
            retweets=4,
            replies=6,
            follows=2,
            reward=0.31,
        )
        _outcome(
            conn,
            ds,
            p1,
            2,
            AS_OF + 5 * h,
            impressions=2000,
            likes=90,
            retweets=9,
            replies=30,
            follows=9,
            reward=0.77,
        )  # collected after as_of: ignored
        p2 = _post(conn, ds, 2, AS_OF - 3 * d, novelty=0.4)
        _outcome(
            conn,
            ds,
            p2,
            1,
            AS_OF - 3 * d + h,
            impressions=300,
            likes=3,
            retweets=0,
            replies=1,
            follows=0,
            reward=0.05,
        )
        _outcome(
            conn,
            ds,
            p2,
            2,
            AS_OF - 2 * d,
            impressions=1500,
            likes=30,
            retweets=6,
            replies=3,
            follows=5,
            reward=0.52,
        )
        p3 = _post(conn, ds, 3, AS_OF - 5 * d, novelty=None)
        _outcome(
            conn,
            ds,
            p3,
            1,
            AS_OF - 5 * d + h,
            impressions=0,
            likes=0,
            retweets=0,
            replies=0,
            follows=None,
            reward=None,
        )  # no reach yet: every rate undefined
        p4 = _post(conn, ds, 4, AS_OF - 6 * d, novelty=0.6)
        _outcome(
            conn,
            ds,
            p4,
            1,
            AS_OF - 6 * d + h,
            impressions=800,
            likes=16,
            retweets=8,
            replies=8,
            follows=5,
            reward=0.44,
        )
        _outcome(conn, ds, p4, 2, AS_OF - 5 * d, status="unavailable")  # keeps pass 1
        _post(conn, ds, 5, AS_OF - 6 * d + 2 * h, novelty=0.9)  # posted, never collected
        # the 7 days before
        p6 = _post(conn, ds, 6, AS_OF - 9 * d, novelty=0.5)
        _outcome(
            conn,
            ds,
            p6,
            2,
            AS_OF - 8 * d,
            impressions=1000,
            likes=10,
            retweets=2,
            replies=2,
            follows=1,
            reward=0.2,
        )
        p7 = _post(conn, ds, 7, AS_OF - 12 * d, novelty=0.3)
        _outcome(
            conn,
            ds,
            p7,
            2,
            AS_OF - 11 * d,
            impressions=500,
            likes=5,
            retweets=1,
            replies=3,
            follows=4,
            reward=0.6,
        )  # more follows than any recent post, but outside the week
        # outside both windows, and after as_of
        p8 = _post(conn, ds, 8, AS_OF - 20 * d, novelty=0.1)
        _outcome(
            conn,
            ds,
            p8,
            2,
            AS_OF - 19 * d,
            impressions=100,
            likes=50,
            retweets=50,
            replies=50,
            follows=50,
            reward=0.9,
        )
        p9 = _post(conn, ds, 9, AS_OF + 2 * h, novelty=0.99)
        _outcome(
            conn,
            ds,
            p9,
            1,
            AS_OF + 3 * h,
            impressions=100,
            likes=1,
            retweets=1,
            replies=1,
            follows=7,
            reward=0.1,
        )
        # simulated posts in the same week: never in the real figures
        s1 = _post(conn, ds, 101, AS_OF - 2 * d, simulated=True, novelty=0.05)
        _outcome(
            conn,
            ds,
            s1,
            2,
            AS_OF - 1 * d,
            simulated=True,
            impressions=9000,
            likes=900,
            retweets=90,
            replies=300,
            follows=80,
            reward=0.95,
        )
        s2 = _post(conn, ds, 102, AS_OF - 10 * d, simulated=True, novelty=0.5)
        _outcome(
            conn,
            ds,
            s2,
            1,
            AS_OF - 10 * d + h,
            simulated=True,
            impressions=1000,
            likes=10,
            retweets=1,
            replies=1,
            follows=3,
            reward=0.3,
        )

        # decisions never posted: skipped, failed, queued (one requeued with an error)
        for reason in ("duplicate_content", "duplicate_content", "budget_exceeded"):
            row = _decision(ds.account_id, None, AS_OF, False, status="skipped", skip_reason=reason)
            assert repo.insert_decision(conn, row)
            ds.others.append(
                {"status": "skipped", "skip_reason": reason, "last_error": None, "simulated": False}
            )
        row = _decision(ds.account_id, None, AS_OF, True, status="skipped", skip_reason="simulated_only")
        assert repo.insert_decision(conn, row)
        ds.others.append(
            {"status": "skipped", "skip_reason": "simulated_only", "last_error": None, "simulated": True}
        )
        for n, (final, error) in enumerate(
            [("failed", "compose box not found"), ("failed", "compose box not found"), ("queued", "timeout")]
        ):
            row = _decision(ds.account_id, f"unlucky {n}", AS_OF - 30 * d, False)
            assert repo.insert_decision(conn, row)
            assert repo.claim_next(conn, ds.account_id, now=AS_OF, worker="seed", lease_s=60) is not None
            repo.release_claim(conn, row.decision_id, status=final, error=error)
            ds.others.append({"status": final, "skip_reason": None, "last_error": error, "simulated": False})
        for n in range(2):
            assert repo.insert_decision(conn, _decision(ds.account_id, f"later {n}", AS_OF + 3 * d, False))
            ds.others.append(
                {"status": "queued", "skip_reason": None, "last_error": None, "simulated": False}
            )

        # follower snapshots: the account's day starts at 05:00 UTC
        for taken_at, followers, simulated in [
            (AS_OF - 10 * d, 900, False),
            (AS_OF - 7 * d - h, 950, False),
            (AS_OF - 7 * d + h, 960, False),
            (datetime(2026, 1, 5, 23, 0, tzinfo=UTC), 1000, False),
            (
                datetime(2026, 1, 6, 3, 0, tzinfo=UTC),
                1010,
                False,
            ),  # after UTC midnight, before local midnight
            (datetime(2026, 1, 6, 6, 0, tzinfo=UTC), 1020, False),
            (AS_OF - h, 1042, False),
            (AS_OF + h, 1100, False),
            (AS_OF - 30 * timedelta(minutes=1), 5000, True),
            (AS_OF - 8 * d, 4000, True),
        ]:
            repo.insert_follower_snapshot(
                conn,
                ds.account_id,
                taken_at=taken_at,
                followers=followers,
                source="collect",
                simulated=simulated,
            )
            ds.snapshots.append({"taken_at": taken_at, "followers": followers, "simulated": simulated})

        # bandit posteriors and training runs (no repository writes these yet)
        conn.execute(
            "INSERT INTO reward_versions (version, w_fpki, w_retweet, w_reply, w_novelty, w_dup_penalty,"
            " scale_fpki, scale_retweet, scale_reply, exposure_cap, is_active)"
            " VALUES (2, 0.6, 0.2, 0.15, 0.05, -0.1, 2.0, 0.01, 0.005, 1000, false)"
        )
        ds.arms = [
            {
                "scope": "content_type",
                "arm": "tip",
                "simulated": False,
                "alpha": 3.5,
                "beta": 2.25,
                "successes": 2.5,
                "failures": 1.25,
                "pulls": 4,
                "sum_reward": 1.9,
                "updated_at": AS_OF - 2 * h,
            },
            {
                "scope": "content_type",
                "arm": "story",
                "simulated": False,
                "alpha": 1.0,
                "beta": 1.0,
                "successes": 0.0,
                "failures": 0.0,
                "pulls": 0,
                "sum_reward": 0.0,
                "updated_at": AS_OF - 3 * h,
            },
            {
                "scope": "timing_slot",
                "arm": "morning",
                "simulated": False,
                "alpha": 12.0,
                "beta": 30.0,
                "successes": 11.0,
                "failures": 29.0,
                "pulls": 40,
                "sum_reward": 10.4,
                "updated_at": AS_OF - 1 * h,
            },
            {
                "scope": "content_type",
                "arm": "tip",
                "simulated": True,
                "alpha": 50.0,
                "beta": 5.0,
                "successes": 49.0,
                "failures": 4.0,
                "pulls": 60,
                "sum_reward": 51.0,
                "updated_at": AS_OF,
            },
        ]
        for arm in ds.arms:
            conn.execute(
                "INSERT INTO bandit_arms (account_id, scope, arm, simulated, alpha, beta, successes,"
                " failures, pulls, sum_reward, updated_at) VALUES (%(account_id)s, %(scope)s, %(arm)s,"
                " %(simulated)s, %(alpha)s, %(beta)s, %(successes)s, %(failures)s, %(pulls)s,"
                " %(sum_reward)s, %(updated_at)s)",
                arm | {"account_id": ds.account_id},
            )
        ds.runs = [
            {
                "simulated": False,
                "status": "trained",
                "reward_version": 2,
                "outcomes_used": 6,
                "arms_trained": 3,
                "explore_ratio": 0.18,
                "message": None,
                "ran_at": AS_OF - 5 * h,
                # the latest trained real run: the one /api/learning/status's driftAlarm shows
                "drift": {
                    "recent_days": 5,
                    "min_posts": 4,
                    "z_alarm": 2.5,
                    "arms": [
                        {
                            "scope": "content_type",
                            "arm": "tip",
                            "n_recent": 6,
                            "n_before": 9,
                            "mean_recent": 1.375,
                            "mean_before": 0.375,
                            "z": 12.6,
                        },
                        {
                            "scope": "timing_slot",
                            "arm": "morning",
                            "n_recent": 4,
                            "n_before": 4,
                            "mean_recent": 0.5,
                            "mean_before": 0.2,
                            "z": None,
                        },
                    ],
                },
            },
            {
                "simulated": False,
                "status": "insufficient_data",
                "reward_version": 1,
                "outcomes_used": 0,
                "arms_trained": 0,
                "explore_ratio": 0.12,
                "message": "2 new outcomes",
                "ran_at": AS_OF - 2 * h,
                "drift": None,  # an insufficient-data run checks nothing
            },
            {
                "simulated": True,
                "status": "trained",
                "reward_version": 1,
                "outcomes_used": 200,
                "arms_trained": 14,
                "explore_ratio": 0.05,
                "message": None,
                "ran_at": AS_OF - 1 * h,
                "drift": {"recent_days": 7, "min_posts": 5, "z_alarm": 3.0, "arms": []},
            },
            {
                "simulated": False,
                "status": "trained",
                "reward_version": 1,
                "outcomes_used": 5,
                "arms_trained": 3,
                "explore_ratio": 0.2,
                "message": None,
                "ran_at": AS_OF - 30 * d,
                "drift": {"recent_days": 7, "min_posts": 5, "z_alarm": 3.0, "arms": []},  # older: not shown
            },
        ]
        for run in ds.runs:
            rid = conn.execute(
                "INSERT INTO training_runs (account_id, simulated, status, reward_version, outcomes_used,"
                " arms_trained, explore_ratio, message, ran_at, drift) VALUES (%(account_id)s,"
                " %(simulated)s, %(status)s, %(reward_version)s, %(outcomes_used)s, %(arms_trained)s,"
                " %(explore_ratio)s, %(message)s, %(ran_at)s, %(drift)s) RETURNING run_id",
                run | {"account_id": ds.account_id, "drift": run["drift"] and Jsonb(run["drift"])},
            ).fetchone()
            assert rid is not None
            run["run_id"] = rid[0]

        # LLM budget (workspace-wide) for today and yesterday, and usage rows
        ds.budget_days = [
            {
                "budget_day": budget_day,
                "limit_usd": Decimal("4.000000"),
                "used_usd": Decimal("1.250000"),
                "reserved_usd": Decimal("0.500000"),
                "circuit_open": False,
            },
            {
                "budget_day": budget_day - d,
                "limit_usd": Decimal("5.000000"),
                "used_usd": Decimal("4.900000"),
                "reserved_usd": Decimal("0"),
                "circuit_open": True,
            },
        ]
        for day in ds.budget_days:
            conn.execute(
                "INSERT INTO llm_budget_days (budget_day, limit_usd, used_usd, reserved_usd, circuit_open)"
                " VALUES (%(budget_day)s, %(limit_usd)s, %(used_usd)s, %(reserved_usd)s, %(circuit_open)s)",
                day,
            )
        ds.usage = [
            {
                "budget_day": budget_day,
                "status": "succeeded",
                "prompt_tokens": 300,
                "completion_tokens": 80,
                "cost_usd": Decimal("0.500000"),
            },
            {
                "budget_day": budget_day,
                "status": "succeeded",
                "prompt_tokens": 500,
                "completion_tokens": 120,
                "cost_usd": Decimal("0.750000"),
            },
            {
                "budget_day": budget_day,
                "status": "failed",
                "prompt_tokens": None,
                "completion_tokens": None,
                "cost_usd": None,
            },
            {
                "budget_day": budget_day,
                "status": "budget_exceeded",
                "prompt_tokens": None,
                "completion_tokens": None,
                "cost_usd": None,
            },
            {
                "budget_day": budget_day - d,
                "status": "succeeded",
                "prompt_tokens": 900,
                "completion_tokens": 100,
                "cost_usd": Decimal("4.900000"),
            },
        ]
        for u in ds.usage:
            conn.execute(
                "INSERT INTO llm_usage (budget_day, purpose, model, status, prompt_tokens, completion_tokens,"
                " cost_usd) VALUES (%(budget_day)s, 'generate', 'gpt-4o-mini', %(status)s, %(prompt_tokens)s,"
                " %(completion_tokens)s, %(cost_usd)s)",
                u,
            )
        repo.set_control(conn, repo.KILL_SWITCH, enabled=True, reason="seeded stop", by="test")
        ds.kill_switch = True
        conn.commit()
    return ds


@pytest.fixture()
def api_dataset(api_settings: Callable[..., Settings]) -> ApiDataset:
    """The known dataset in the clean database; the LLM budget day is today (UTC)."""
    settings = api_settings()
    assert settings.database_url is not None
    return seed_api_dataset(settings.database_url.get_secret_value(), datetime.now(UTC).date())
