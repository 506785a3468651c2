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


@dataclass
class _Tally:
    """The counts of one collection run, added to batch by batch."""

    stored: int = 0
    unavailable: int = 0
    deferred: int = 0
    incomplete: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)

    def defer(self, reason: str) -> None:
        self.deferred += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def note_missing(self, names: Sequence[str]) -> None:
        if names:
            self.incomplete += 1
            for name in names:
                self.missing[name] = self.missing.get(name, 0) + 1

    @property
    def session_expired(self) -> bool:
        return bool(self.reasons.get("session_expired"))

    def report(self, due: int, followers: int | None) -> CollectionReport:
        return CollectionReport(
            due=due,
            stored=self.stored,
            unavailable=self.unavailable,
            deferred=self.deferred,
            followers=followers,
            deferred_reasons=self.reasons,
            incomplete=self.incomplete,
            missing=self.missing,
        )


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
    followers = await _snapshot_or_none(pool, client, account_id, now=now, simulated=simulated)
    size = batch_size or max(1, settings.collect_concurrency * 4)
    tally = _Tally()
    for start in range(0, len(pending), size):
        batch = pending[start : start + size]
        refs = [PostRef(p.tweet_id, p.post_url or "", p.posted_at) for p in batch]
        results = await client.read_metrics_many(refs, settings.collect_concurrency)
        attributed = _attributions(pool, account_id, batch, until=now)
        read = (
            _row(p, result, now=now, attribution=attributed.get(p.decision_id), version=version, tally=tally)
            for p, result in zip(batch, results, strict=True)
        )
        rows = [row for row in read if row is not None]
        _store(pool, rows)
        tally.stored += len(rows)
        if tally.session_expired:
            break  # every further read would fail the same way
    report = tally.report(due=len(pending), followers=followers)
    _log_report(report, version)
    if tally.session_expired:
        raise SessionExpiredError(
            f"the X session expired during collection ({report.stored} passes stored, the rest stay "
            "pending); run `xbot x login`"
        )
    return report


async def _snapshot_or_none(
    pool: ConnectionPool, client: XClient, account_id: int, *, now: datetime, simulated: bool
) -> int | None:
    """The run's follower snapshot; a transient profile failure is logged and must not block the metric
    reads (an expired session still stops the run)."""
    try:
        return await snapshot_followers(
            pool, client, account_id, taken_at=now, source="collect", simulated=simulated
        )
    except SessionExpiredError:
        raise
    except BrowserError as exc:
        log.warning("[snapshot] follower count not read: %s: %s", type(exc).__name__, exc)
        return None


def _row(
    p: repo.PendingPass,
    result: Metrics | Unavailable,
    *,
    now: datetime,
    attribution: Attribution | None,
    version: RewardVersion,
    tally: _Tally,
) -> repo.OutcomeRow | None:
    """The row to store for one read, counted in `tally`; None for a transient failure (it stays pending)."""
    if not isinstance(result, Unavailable):
        row = _outcome(p, result, now=now, attribution=attribution, version=version)
        tally.note_missing(row.missing_metrics or ())
        return row
    if result.reason not in PERMANENT:
        tally.defer(result.reason)
        return None
    tally.unavailable += 1
    return repo.OutcomeRow(
        decision_id=p.decision_id,
        collected_pass=p.collected_pass,
        account_id=p.account_id,
        due_at=p.due_at,
        collected_at=now,
        simulated=p.simulated,
        status="unavailable",
        unavailable_reason=f"{result.reason}: {result.detail}"[:500],
    )


def _store(pool: ConnectionPool, rows: list[repo.OutcomeRow]) -> None:
    with pool.connection() as conn, conn.transaction():
        for row in rows:
            repo.upsert_outcome(conn, row)


def _log_report(report: CollectionReport, version: RewardVersion) -> None:
    log.info(
        "[collect] due=%d stored=%d unavailable=%d deferred=%d followers=%s %s",
        report.due,
        report.stored,
        report.unavailable,
        report.deferred,
        report.followers,
        report.deferred_reasons or "",
    )
    if report.incomplete:
        log.warning(
            "[collect] %d of %d stored passes are incomplete under reward v%d (missing: %s); "
            "learning leaves them out",
            report.incomplete,
            report.stored,
            version.version,
            ", ".join(f"{k} {v}" for k, v in report.missing.items()),
        )
