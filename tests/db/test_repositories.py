"""Core repositories against the real server: the posting queue, leases, outcome upserts, COPY."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from xbot_core.adapters.db import repositories as repo
from xbot_core.domain.text import content_hash

pytestmark = pytest.mark.db

NOW = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


def queue(conn: psycopg.Connection, account_id: int, text: str, at: datetime, **over: object) -> uuid.UUID:
    row = repo.DecisionRow(
        decision_id=uuid.uuid4(),
        account_id=account_id,
        content=text,
        content_hash=content_hash(text),
        status="queued",
        skip_reason=None,
        generation_source="real",
        simulated=False,
        scheduled_at=at,
        content_type="tip",
        hook_pattern="how_to",
        timing_slot="morning",
        policy="thompson",
        propensity=0.4,
        p_content_type=0.4,
        p_hook_pattern=1.0,
        p_timing_slot=1.0,
    )
    row = repo.DecisionRow(**{**row.__dict__, **over})
    assert repo.insert_decision(conn, row)
    assert not repo.insert_decision(conn, row)  # idempotent
    return row.decision_id


def test_queue_is_oldest_due_first_and_skips_synthetic_and_future(db_url: str, account_id: int) -> None:
    with psycopg.connect(db_url) as conn:
        late = queue(conn, account_id, "b", NOW - timedelta(minutes=5))
        early = queue(conn, account_id, "a", NOW - timedelta(minutes=30))
        queue(conn, account_id, "c", NOW + timedelta(hours=2))  # not due
        queue(conn, account_id, "d", NOW - timedelta(hours=1), generation_source="synthetic")
        conn.commit()
        claimed = []
        for _ in range(3):
            with conn.transaction():
                post = repo.claim_next(conn, account_id, now=NOW, worker="w1", lease_s=60)
            claimed.append(post.decision_id if post else None)
        assert claimed == [early, late, None]
        status = dict(conn.execute("SELECT content, status FROM content_metadata").fetchall())
        assert status == {"a": "posting", "b": "posting", "c": "queued", "d": "queued"}


def test_two_workers_never_claim_the_same_row(db_url: str, account_id: int) -> None:
    with psycopg.connect(db_url) as setup:
        ids = {queue(setup, account_id, f"p{i}", NOW - timedelta(minutes=i)) for i in range(2)}
        setup.commit()
    with psycopg.connect(db_url) as a, psycopg.connect(db_url) as b:
        a_post = repo.claim_next(a, account_id, now=NOW, worker="a", lease_s=60)  # a holds its row lock
        b_post = repo.claim_next(b, account_id, now=NOW, worker="b", lease_s=60)
        assert a_post and b_post and a_post.decision_id != b_post.decision_id
        assert {a_post.decision_id, b_post.decision_id} == ids
        a.commit()
        b.commit()


def test_record_posted_is_atomic_and_exactly_once(db_url: str, account_id: int) -> None:
    with psycopg.connect(db_url) as conn:
        d = queue(conn, account_id, "x", NOW - timedelta(minutes=1))
        conn.commit()
        with conn.transaction():
            repo.claim_next(conn, account_id, now=NOW, worker="w", lease_s=60)
        with conn.transaction():
            repo.record_posted(
                conn,
                decision_id=d,
                account_id=account_id,
                tweet_id="1001",
                post_url=None,
                posted_at=NOW,
                worker="w",
            )
        with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
            repo.record_posted(
                conn,
                decision_id=d,
                account_id=account_id,
                tweet_id="1002",
                post_url=None,
                posted_at=NOW,
                worker="w",
            )
        assert conn.execute("SELECT status FROM content_metadata").fetchone() == ("posted",)
        assert conn.execute("SELECT count(*) FROM posted_decisions").fetchone() == (1,)


def test_expired_lease_is_found_and_released(db_url: str, account_id: int) -> None:
    with psycopg.connect(db_url) as conn:
        d = queue(conn, account_id, "y", NOW - timedelta(minutes=1))
        with conn.transaction():
            repo.claim_next(conn, account_id, now=NOW, worker="w", lease_s=30)
        with conn.transaction():
            assert repo.expired_claims(conn, account_id, now=NOW + timedelta(seconds=10)) == []
            [claim] = repo.expired_claims(conn, account_id, now=NOW + timedelta(seconds=31))
            assert claim.decision_id == d and claim.claimed_by == "w"
            repo.release_claim(conn, d, status="queued", error="lease expired; not on timeline")
        assert conn.execute("SELECT status, last_error FROM content_metadata").fetchone() == (
            "queued",
            "lease expired; not on timeline",
        )


def test_outcome_upsert_is_idempotent_and_pending_passes_catch_up(db_url: str, account_id: int) -> None:
    with psycopg.connect(db_url) as conn:
        d = queue(conn, account_id, "z", NOW - timedelta(days=3), status="posted")
        conn.execute("UPDATE content_metadata SET status = 'posted'")
        posted_at = NOW - timedelta(days=2)
        repo.record_posted(
            conn,
            decision_id=d,
            account_id=account_id,
            tweet_id="42",
            post_url=None,
            posted_at=posted_at,
            worker=None,
            reconciled=True,
        )
        due = repo.pending_passes(conn, account_id, now=NOW)
        assert [(p.decision_id, p.collected_pass) for p in due] == [(d, 1), (d, 2)]  # late run: both due
        row = repo.OutcomeRow(
            decision_id=d,
            collected_pass=1,
            account_id=account_id,
            due_at=due[0].due_at,
            collected_at=NOW,
            simulated=False,
            impressions=100,
            likes=3,
            retweets=None,
        )
        repo.upsert_outcome(conn, row)
        repo.upsert_outcome(conn, repo.OutcomeRow(**{**row.__dict__, "likes": 5}))
        assert conn.execute("SELECT count(*), max(likes), max(retweets) FROM outcomes").fetchone() == (
            1,
            5,
            None,
        )
        assert [p.collected_pass for p in repo.pending_passes(conn, account_id, now=NOW)] == [2]


def test_copy_rows_bulk_inserts(db_url: str, account_id: int) -> None:
    with psycopg.connect(db_url) as conn:
        n = repo.copy_rows(
            conn,
            "follower_snapshots",
            ["account_id", "taken_at", "followers", "source", "simulated"],
            ((account_id, NOW + timedelta(minutes=i), 100 + i, "collect", True) for i in range(500)),
        )
        assert n == 500
        assert conn.execute("SELECT count(*), max(followers) FROM follower_snapshots").fetchone() == (
            500,
            599,
        )


def test_kill_switch_control(db_url: str, account_id: int) -> None:
    with psycopg.connect(db_url) as conn:
        assert repo.get_control(conn, repo.KILL_SWITCH) is False
        repo.set_control(conn, repo.KILL_SWITCH, enabled=True, reason="test", by="pytest")
        assert repo.get_control(conn, repo.KILL_SWITCH) is True
