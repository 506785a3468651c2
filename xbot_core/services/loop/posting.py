"""Exactly-once posting: claim with a lease, publish once, record atomically, reconcile from the timeline.

A publish is never retried automatically. When its outcome is unknown (crash, timeout, database down before
the record) the decision stays in `posting`; once its lease has expired, `reconcile` looks for it on the
account's recent posts by content hash: found → recorded with the tweet id X shows; not found → queued again.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from xbot_core.adapters.db import queue_repo
from xbot_core.adapters.db import repositories as repo
from xbot_core.adapters.x_browser.models import PostRef, TimelinePost, XClient
from xbot_core.domain.text import content_hash
from xbot_core.errors import RateLimitedError, SessionExpiredError
from xbot_core.services.loop import collection
from xbot_core.services.operations import ops
from xbot_core.settings import Settings

log = logging.getLogger("xbot.posting")

MAX_ATTEMPTS = 3  # claims of one decision before it is marked failed
TIMELINE_LIMIT = 50  # recent posts read when reconciling
SHADOW_SKIP_REASON = "shadow mode: would have been posted, never published"

PostStatus = Literal["posted", "idle", "blocked", "requeued", "failed", "uncertain", "unrecorded"]


@dataclass(frozen=True)
class PostResult:
    """What one posting attempt did; `reason` explains every status but posted/idle."""

    status: PostStatus
    decision_id: UUID | None = None
    tweet_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ReconcileReport:
    """Expired claims resolved by reading the timeline."""

    recorded: list[UUID] = field(default_factory=list)
    requeued: list[UUID] = field(default_factory=list)
    failed: list[UUID] = field(default_factory=list)


def worker_id() -> str:
    """A claim owner unique to this process and call (host:pid:random)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def post_url(settings: Settings, tweet_id: str) -> str:
    """X's canonical post URL (used when the timeline gives only an id)."""
    return f"{settings.x_base_url}/{settings.account_handle}/status/{tweet_id}"


class _Blocked(Exception):
    def __init__(self, gate: ops.Gate) -> None:
        self.gate = gate


def _release(pool: ConnectionPool, decision_id: UUID, error: str) -> Literal["requeued", "failed"]:
    """Back to the queue, or failed after MAX_ATTEMPTS claims; the error is kept on the row."""
    with pool.connection() as conn, conn.transaction():
        attempts = queue_repo.claim_attempts(conn, decision_id)
        status: Literal["requeued", "failed"] = (
            "failed" if attempts is not None and attempts >= MAX_ATTEMPTS else "requeued"
        )
        repo.release_claim(
            conn, decision_id, status="failed" if status == "failed" else "queued", error=error
        )
    return status


def pending_work(
    pool: ConnectionPool, account_id: int, *, now: datetime, grace_s: int = 60
) -> tuple[int, int]:
    """(due queued decisions, expired claims): lets a run skip opening the browser when both are 0."""
    with pool.connection() as conn:
        return queue_repo.posting_work(conn, account_id, now=now, grace_s=grace_s)


def queue_status(
    pool: ConnectionPool, account_id: int, *, now: datetime, settings: Settings
) -> dict[str, object]:
    """What `xbot post --status` shows: mode, kill switch, rate gate, due work and the queue per status."""
    with pool.connection() as conn:
        ks = ops.kill_switch(conn)
        queue = queue_repo.queue_summary(conn, account_id)
        gate = ops.rate_gate(
            conn,
            account_id,
            now=now,
            max_per_hour=settings.max_posts_per_hour,
            min_interval_s=settings.min_post_interval_s,
        )
    due, expired = pending_work(pool, account_id, now=now)
    return {
        "account": settings.account_handle,
        "now": now,
        "mode": settings.mode,
        "kill_switch": asdict(ks),
        "rate": "open" if gate.allowed else f"{gate.reason}: {gate.detail}",
        "due_now": due,
        "expired_claims": expired,
        "queue": queue,
    }


def skip_due_in_shadow(pool: ConnectionPool, account_id: int, *, now: datetime, grace_s: int = 60) -> int:
    """Shadow mode: close every due queued decision as skipped (never published); returns how many."""
    with pool.connection() as conn, conn.transaction():
        skipped = queue_repo.skip_due(conn, account_id, now=now, grace_s=grace_s, reason=SHADOW_SKIP_REASON)
    if skipped:
        log.info("[post] shadow mode: %d due decisions skipped, nothing published", skipped)
    return skipped


async def _snapshot_followers(
    pool: ConnectionPool,
    client: XClient,
    account_id: int,
    *,
    taken_at: datetime,
    source: str,
    simulated: bool,
) -> int | None:
    """Record the follower count now; a failure is logged, never fatal (the post is already recorded)."""
    try:
        return await collection.snapshot_followers(
            pool, client, account_id, taken_at=taken_at, source=source, simulated=simulated
        )
    except Exception as exc:
        log.warning("[snapshot] follower snapshot (%s) failed: %s: %s", source, type(exc).__name__, exc)
        return None


async def post_next(
    pool: ConnectionPool,
    client: XClient,
    *,
    account_id: int,
    now: datetime,
    settings: Settings,
    worker: str | None = None,
) -> PostResult:
    """Claim the oldest due decision, publish it once, record it; guards fail closed."""
    worker = worker or worker_id()
    post = _claim(pool, account_id, now=now, settings=settings, worker=worker)
    if isinstance(post, PostResult):
        return post
    claimed = time.monotonic()
    stopped = _stopped_after_claim(pool, post)
    if stopped is not None:
        return stopped
    ref = await _publish(pool, client, post)
    if isinstance(ref, PostResult):
        return ref
    _warn_if_past_lease(post, time.monotonic() - claimed, settings.lease_seconds)
    posted_at = ref.posted_at or now  # X's time of the post; our clock when the page did not say
    unrecorded = _record(pool, post, ref, account_id=account_id, posted_at=posted_at, worker=worker)
    if unrecorded is not None:
        return unrecorded
    log.info("[post] posted %s as %s", post.decision_id, ref.tweet_id)
    await _snapshot_followers(
        pool, client, account_id, taken_at=posted_at, source="post", simulated=post.simulated
    )
    return PostResult("posted", post.decision_id, ref.tweet_id)


def _claim(
    pool: ConnectionPool, account_id: int, *, now: datetime, settings: Settings, worker: str
) -> repo.QueuedPost | PostResult:
    """The gates (mode, kill switch, rate) and the claim in one transaction under the account lock."""
    try:
        with pool.connection() as conn:
            with conn.transaction():
                ops.lock_account(conn, account_id)
                gate = ops.posting_gate(conn, account_id, now=now, settings=settings)
                if not gate.allowed:
                    raise _Blocked(gate)
                post = repo.claim_next(
                    conn, account_id, now=now, worker=worker, lease_s=settings.lease_seconds
                )
    except _Blocked as b:
        log.info("[post] blocked (%s): %s", b.gate.reason, b.gate.detail)
        return PostResult("blocked", reason=f"{b.gate.reason}: {b.gate.detail}")
    except ops.DB_ERRORS as exc:
        log.error("[post] blocked (db_error): cannot claim: %s: %s", type(exc).__name__, exc)
        return PostResult("blocked", reason=f"db_error: {exc}")
    return post if post is not None else PostResult("idle")


def _stopped_after_claim(pool: ConnectionPool, post: repo.QueuedPost) -> PostResult | None:
    """The kill switch, read fresh right before the publish; engaged (or unreadable) → released, blocked."""
    try:
        with pool.connection() as conn:
            gate = ops.kill_switch_gate(conn)
    except ops.DB_ERRORS as exc:
        gate = ops.Gate(False, "db_error", f"kill switch unreadable: {exc}")
    if gate.allowed:
        return None
    log.warning("[post] blocked (%s) after claim of %s: %s", gate.reason, post.decision_id, gate.detail)
    try:
        _release(pool, post.decision_id, f"not published: {gate.reason}: {gate.detail}")
    except ops.DB_ERRORS:
        pass  # the lease expires; reconciliation finds nothing and requeues it
    return PostResult("blocked", post.decision_id, reason=f"{gate.reason}: {gate.detail}")


async def _publish(pool: ConnectionPool, client: XClient, post: repo.QueuedPost) -> PostRef | PostResult:
    """Publish once. Refused before creation → released; outcome unknown → left claimed for reconcile."""
    try:
        return await client.publish(post.content)
    except (SessionExpiredError, RateLimitedError) as exc:
        # refused by X before the post was created: safe to queue again
        status = _release(pool, post.decision_id, f"{type(exc).__name__}: {exc}")
        log.warning("[post] %s %s: %s: %s", status, post.decision_id, type(exc).__name__, exc)
        return PostResult(status, post.decision_id, reason=f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        # outcome unknown: leave it claimed; reconciliation decides after the lease, never a blind retry
        log.error("[post] uncertain %s: %s: %s", post.decision_id, type(exc).__name__, exc)
        try:
            with pool.connection() as conn, conn.transaction():
                queue_repo.note_claim_error(conn, post.decision_id, f"{type(exc).__name__}: {exc}")
        except ops.DB_ERRORS:
            pass
        return PostResult("uncertain", post.decision_id, reason=f"{type(exc).__name__}: {exc}")


def _warn_if_past_lease(post: repo.QueuedPost, elapsed: float, lease_s: int) -> None:
    if elapsed > lease_s:
        log.error(
            "[post] publish of %s took %.0f s, longer than the %d s lease: check for a duplicate",
            post.decision_id,
            elapsed,
            lease_s,
        )


def _record(
    pool: ConnectionPool,
    post: repo.QueuedPost,
    ref: PostRef,
    *,
    account_id: int,
    posted_at: datetime,
    worker: str,
) -> PostResult | None:
    """Record the tweet id and status in one transaction; a failure is `unrecorded` (reconcile records it)."""
    try:
        with pool.connection() as conn, conn.transaction():
            repo.record_posted(
                conn,
                decision_id=post.decision_id,
                account_id=account_id,
                tweet_id=ref.tweet_id,
                post_url=ref.url,
                posted_at=posted_at,
                worker=worker,
            )
    except (psycopg.errors.UniqueViolation, psycopg.errors.LockNotAvailable) as exc:
        log.error(
            "[post] %s published as %s but already resolved elsewhere: %s",
            post.decision_id,
            ref.tweet_id,
            exc,
        )
        return PostResult("unrecorded", post.decision_id, ref.tweet_id, reason=str(exc))
    except ops.DB_ERRORS as exc:
        log.error(
            "[post] %s published as %s but not recorded (%s); reconciliation will record it",
            post.decision_id,
            ref.tweet_id,
            exc,
        )
        return PostResult("unrecorded", post.decision_id, ref.tweet_id, reason=f"db_error: {exc}")
    return None


async def reconcile(
    pool: ConnectionPool,
    client: XClient,
    *,
    account_id: int,
    now: datetime,
    settings: Settings,
    timeline_limit: int = TIMELINE_LIMIT,
) -> ReconcileReport:
    """Resolve every claim whose lease expired by matching the timeline on content hash; idempotent."""
    with pool.connection() as conn, conn.transaction():
        if not repo.expired_claims(conn, account_id, now=now):
            return ReconcileReport()
    timeline = await client.recent_posts(timeline_limit)
    by_hash: dict[str, list[TimelinePost]] = {}
    for entry in timeline:  # newest first, as the timeline shows them
        by_hash.setdefault(content_hash(entry.text), []).append(entry)
    report = ReconcileReport()
    with pool.connection() as conn, conn.transaction():
        claims = repo.expired_claims(conn, account_id, now=now)
        ids = [e.tweet_id for e in timeline]
        taken = queue_repo.posted_tweet_ids(conn, account_id, ids)
        for claim in claims:
            match = next((e for e in by_hash.get(claim.content_hash, []) if e.tweet_id not in taken), None)
            if match is not None:
                taken.add(match.tweet_id)
                repo.record_posted(
                    conn,
                    decision_id=claim.decision_id,
                    account_id=account_id,
                    tweet_id=match.tweet_id,
                    post_url=post_url(settings, match.tweet_id),
                    posted_at=match.posted_at or now,
                    worker=None,
                    reconciled=True,
                )
                report.recorded.append(claim.decision_id)
                log.warning(
                    "[reconcile] %s found on the timeline as %s: recorded", claim.decision_id, match.tweet_id
                )
                continue
            attempts = queue_repo.claim_attempts(conn, claim.decision_id)
            final = attempts is not None and attempts >= MAX_ATTEMPTS
            repo.release_claim(
                conn,
                claim.decision_id,
                status="failed" if final else "queued",
                error=f"lease of {claim.claimed_by} expired; not among the last {timeline_limit} posts",
            )
            (report.failed if final else report.requeued).append(claim.decision_id)
            log.warning(
                "[reconcile] %s not on the timeline: %s", claim.decision_id, "failed" if final else "requeued"
            )
    return report


async def post_due(
    pool: ConnectionPool,
    client: XClient,
    *,
    account_id: int,
    now: datetime,
    settings: Settings,
    max_posts: int = 1,
    worker: str | None = None,
) -> list[PostResult]:
    """Post up to `max_posts` due decisions, stopping at the first that does not post."""
    results: list[PostResult] = []
    for _ in range(max_posts):
        res = await post_next(pool, client, account_id=account_id, now=now, settings=settings, worker=worker)
        results.append(res)
        if res.status != "posted":
            break
    return results
