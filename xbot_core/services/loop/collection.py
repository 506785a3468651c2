"""Metric collection as a pending-pass queue: every due pass (T+1h, T+24h) not stored yet, however late.

Each stored pass records when it was really read (`collected_at`) next to when it was due (`due_at`). A post X
no longer shows gets a row with status 'unavailable' and the reason (never zeros); a transient failure
(rate limit, expired session, server error) stores nothing, so the next run tries again. Every run takes a
follower snapshot; follows come from the analytics page, else they are attributed from snapshots. A pass that
still lacks a metric the active reward version needs is stored with `missing_metrics` naming it (incomplete).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from psycopg_pool import ConnectionPool

from xbot_core.adapters.db import repositories as repo
from xbot_core.adapters.x_browser.models import Metrics, PostRef, Unavailable, XClient
from xbot_core.domain import metrics as m
from xbot_core.domain.attribution import (
    Attribution,
    AttributionConfig,
    PostWindow,
    Snapshot,
    attribute_follows,
)
from xbot_core.domain.completeness import missing_metrics
from xbot_core.domain.reward import DEFAULT_VERSION, RewardVersion
from xbot_core.errors import BrowserError, SessionExpiredError
from xbot_core.services.operations.rewards import version_for
from xbot_core.settings import Settings

log = logging.getLogger("xbot.collect")

PERMANENT = frozenset({"deleted", "protected", "not_found"})  # stored as 'unavailable'; the rest is retried


@dataclass(frozen=True)
class CollectionReport:
    """What one collection run did."""

    due: int = 0
    stored: int = 0
    unavailable: int = 0
    deferred: int = 0
    followers: int | None = None
    skipped: str | None = None
    deferred_reasons: dict[str, int] = field(default_factory=dict)
    incomplete: int = 0
    missing: dict[str, int] = field(default_factory=dict)  # metric -> incomplete passes lacking it


def skipped_reason(settings: Settings) -> str | None:
    """Why collection does not run under these settings (None: it runs)."""
    return None if settings.real_metrics_enabled else "XBOT_REAL_METRICS_ENABLED=false"


def _outcome(
    p: repo.PendingPass,
    result: Metrics,
    *,
    now: datetime,
    attribution: Attribution | None,
    version: RewardVersion = DEFAULT_VERSION,
) -> repo.OutcomeRow:
    follows: float | None
    if result.new_follows is not None:
        follows, source, confidence = float(result.new_follows), "analytics", "high"
    elif attribution is not None and attribution.follows is not None:
        follows, source, confidence = attribution.follows, "attributed", attribution.confidence
    else:
        follows, source, confidence = None, None, None
    imp = result.impressions
    values = {"impressions": imp, "follows": follows, "retweets": result.retweets, "replies": result.replies}
    return repo.OutcomeRow(
        decision_id=p.decision_id,
        collected_pass=p.collected_pass,
        account_id=p.account_id,
        due_at=p.due_at,
        collected_at=result.read_at or now,
        simulated=p.simulated,
        impressions=imp,
        likes=result.likes,
        retweets=result.retweets,
        replies=result.replies,
        quotes=result.quotes,
        bookmarks=result.bookmarks,
        profile_visits=result.profile_visits,
        link_clicks=result.link_clicks,
        follows=follows,
        follows_source=source,
        follows_confidence=confidence,
        er=m.er(result.likes, result.retweets, result.replies, imp),
        fpki=m.fpki(follows, imp),
        retweet_rate=m.retweet_rate(result.retweets, imp),
        reply_rate=m.reply_rate(result.replies, imp),
        missing_metrics=list(missing_metrics(version, values)),
    )


def _attributions(
    pool: ConnectionPool, account_id: int, batch: Sequence[repo.PendingPass], *, until: datetime
) -> dict[UUID, Attribution]:
    """Snapshot attribution for the batch's posts, seeing every post that may share their windows."""
    window = AttributionConfig().window
    first = min(p.posted_at for p in batch)
    last = max(p.posted_at for p in batch)
    with pool.connection() as conn:
        posts = repo.posts_between(conn, account_id, since=first - window, until=last + window)
        snaps = repo.snapshots_between(conn, account_id, since=first - 2 * window, until=until)
    out = attribute_follows(
        [PostWindow(r[0], r[1]) for r in posts], [Snapshot(r[0], int(r[1])) for r in snaps], until=until
    )
    return {k: v for k, v in out.items() if isinstance(k, UUID)}


async def snapshot_followers(
    pool: ConnectionPool,
    client: XClient,
    account_id: int,
    *,
    taken_at: datetime,
    source: str,
    simulated: bool,
) -> int:
    """Read the follower count and store it (idempotent on the instant)."""
    followers = await client.read_follower_count()
    with pool.connection() as conn, conn.transaction():
        repo.insert_follower_snapshot(
            conn, account_id, taken_at=taken_at, followers=followers, source=source, simulated=simulated
        )
    return followers


async def collect_due(
    pool: ConnectionPool,
    client: XClient,
    *,
    account_id: int,
    now: datetime,
    settings: Settings,
    simulated: bool,
    limit: int = 500,
    batch_size: int | None = None,
) -> CollectionReport:
    """Collect every due pass (oldest due first, up to `limit`), storing each batch in one transaction.

    A database failure mid-run loses at most the batch in flight: it stays pending and the next run reads it.
    `simulated` marks the follower snapshot (true against the sandbox).
    """
    skipped = skipped_reason(settings)
    if skipped is not None:
        log.info("[collect] skipped: %s", skipped)
        return CollectionReport(skipped=skipped)
    with pool.connection() as conn:
        pending = repo.pending_passes(conn, account_id, now=now, limit=limit)
        version = version_for(conn, settings.reward_version)
    followers: int | None
    try:
        followers = await snapshot_followers(
            pool, client, account_id, taken_at=now, source="collect", simulated=simulated
        )
    except SessionExpiredError:
        raise
    except BrowserError as exc:  # a transient profile failure must not block the metric reads
        log.warning("[snapshot] follower count not read: %s: %s", type(exc).__name__, exc)
        followers = None
    size = batch_size or max(1, settings.collect_concurrency * 4)
    stored = unavailable = deferred = 0
    reasons: dict[str, int] = {}
    missing: dict[str, int] = {}
    incomplete = 0
    for start in range(0, len(pending), size):
        batch = pending[start : start + size]
        refs = [PostRef(p.tweet_id, p.post_url or "", p.posted_at) for p in batch]
        results = await client.read_metrics_many(refs, settings.collect_concurrency)
        attributed = _attributions(pool, account_id, batch, until=now)
        rows: list[repo.OutcomeRow] = []
        for p, result in zip(batch, results, strict=True):
            if isinstance(result, Unavailable):
                if result.reason not in PERMANENT:
                    deferred += 1
                    reasons[result.reason] = reasons.get(result.reason, 0) + 1
                    continue
                rows.append(
                    repo.OutcomeRow(
                        decision_id=p.decision_id,
                        collected_pass=p.collected_pass,
                        account_id=p.account_id,
                        due_at=p.due_at,
                        collected_at=now,
                        simulated=p.simulated,
                        status="unavailable",
                        unavailable_reason=f"{result.reason}: {result.detail}"[:500],
                    )
                )
                unavailable += 1
            else:
                row = _outcome(p, result, now=now, attribution=attributed.get(p.decision_id), version=version)
                if row.missing_metrics:
                    incomplete += 1
                    for name in row.missing_metrics:
                        missing[name] = missing.get(name, 0) + 1
                rows.append(row)
        with pool.connection() as conn, conn.transaction():
            for row in rows:
                repo.upsert_outcome(conn, row)
        stored += len(rows)
        if reasons.get("session_expired"):
            break  # every further read would fail the same way
    report = CollectionReport(
        due=len(pending),
        stored=stored,
        unavailable=unavailable,
        deferred=deferred,
        followers=followers,
        deferred_reasons=reasons,
        incomplete=incomplete,
        missing=missing,
    )
    log.info(
        "[collect] due=%d stored=%d unavailable=%d deferred=%d followers=%s %s",
        report.due,
        report.stored,
        report.unavailable,
        report.deferred,
        followers,
        reasons or "",
    )
    if incomplete:
        log.warning(
            "[collect] %d of %d stored passes are incomplete under reward v%d (missing: %s); "
            "learning leaves them out",
            incomplete,
            stored,
            version.version,
            ", ".join(f"{k} {v}" for k, v in missing.items()),
        )
    if reasons.get("session_expired"):
        raise SessionExpiredError(
            f"the X session expired during collection ({stored} passes stored, the rest stay pending); "
            "run `xbot x login`"
        )
    return report
