"""`xbot x check --deep`: read the latest post's metrics through the configured X backend, name the gaps.

A session can be logged in and still not deliver the reward: on x.com the per-post follows come only from the
analytics JSON, which X may withhold. This check reads one real post the way collection does and reports each
metric it could not read, marking those the active reward version needs (a pass would be stored incomplete).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from psycopg_pool import ConnectionPool

from xbot_core.adapters.db import repositories as repo
from xbot_core.adapters.x_browser.models import Metrics, PostRef, Unavailable, XClient
from xbot_core.domain.completeness import required_metrics
from xbot_core.services.operations.rewards import version_for

# Metrics field -> the outcomes column a reward version names (follows arrive as new_follows)
REWARD_NAME = {"new_follows": "follows"}
READ_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Metrics) if f.name != "read_at")


@dataclass(frozen=True)
class DeepCheck:
    """What the backend returned for the latest post: values, what it could not read, or why nothing."""

    tweet_id: str | None
    values: dict[str, int | None]
    unreadable: tuple[str, ...]
    reward_gaps: tuple[str, ...]  # unreadable metrics the active reward version needs
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.unreadable

    def summary(self) -> str:
        """One line for the terminal: what was read, or each metric that could not be."""
        if self.problem is not None:
            return f"deep check failed: {self.problem}"
        if not self.unreadable:
            return f"deep check ok: every metric of post {self.tweet_id} was read"
        line = f"deep check failed: post {self.tweet_id}: could not read {', '.join(self.unreadable)}"
        if self.reward_gaps:
            line += (
                f"; the reward needs {', '.join(self.reward_gaps)}: passes will be stored incomplete "
                "unless follows are attributed from follower snapshots"
            )
        return line


async def deep_check(
    pool: ConnectionPool, client: XClient, account_id: int, reward_version: int | None = None
) -> DeepCheck:
    """Read the account's latest post through `client`; never writes anything. `reward_version`: the
    account's pinned version (None: the active one) whose metrics the reward needs."""
    with pool.connection() as conn:
        row = repo.latest_posted(conn, account_id)
        needed = required_metrics(version_for(conn, reward_version))
    if row is None:
        return DeepCheck(None, {}, (), (), problem="no published post to read yet (post one first)")
    tweet_id, url, posted_at = str(row[0]), row[1] or "", row[2]
    result = await client.read_metrics(PostRef(tweet_id, url, posted_at))
    if isinstance(result, Unavailable):
        return DeepCheck(tweet_id, {}, (), (), problem=f"post {tweet_id} {result.reason}: {result.detail}")
    values = {name: getattr(result, name) for name in READ_FIELDS}
    unreadable = tuple(name for name, v in values.items() if v is None)
    gaps = tuple(REWARD_NAME.get(n, n) for n in unreadable if REWARD_NAME.get(n, n) in needed)
    return DeepCheck(tweet_id, values, unreadable, gaps)
