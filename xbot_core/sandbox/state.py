"""Shared state of one sandbox: accounts, posts, sessions, virtual clock, faults and the content registry.

Every mutation is persisted (a JSON snapshot, written atomically) when a state dir is given, so a restarted
sandbox continues where it stopped. Thread-safe: handlers may run on the event loop or in a thread pool.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from xbot_core.domain.catalog import CONTENT_TYPES, HOOK_PATTERNS
from xbot_core.domain.text import content_hash, normalize_text
from xbot_core.sandbox import audience
from xbot_core.sandbox.config import SandboxConfig

log = logging.getLogger(__name__)

STATE_FILE = "sandbox_state.json"
TWITTER_EPOCH_MS = 1288834974657
SNAPSHOT_VERSION = 1
POST_REFUSALS = {  # [sandbox] wording; the codes are X's (CreateTweet errors sent with HTTP 200)
    226: "This request looks like it might be automated. Please try again later.",
    344: "You have reached your daily limit for posts. Please try again later.",
}


class SandboxStateError(ValueError):
    """An admin or site action the sandbox state refuses (unknown post, duplicate text, bad clock value)."""


@dataclass
class Account:
    handle: str
    name: str
    initial_followers: int
    protected: bool = False
    audience_seed: int | None = None  # None: audience.toml's account, drawn with the sandbox seed
    reach: float = 1.0  # the account's audience multipliers (audience.AccountAudience)
    rates: float = 1.0


@dataclass
class Post:
    tweet_id: str
    handle: str
    text: str
    content_hash: str
    created_at: str  # iso8601 UTC (virtual)
    followers_at_post: int
    content_type: str | None
    hook_pattern: str | None
    timing_slot: str | None
    local_hour: int
    weekday: int
    final: dict[str, int]
    deleted: bool = False

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.created_at)


@dataclass
class Faults:
    rate_limit_next: int = 0
    server_error_next: int = 0
    analytics_hidden: bool = False  # per-post analytics answer with no metrics (X's empty datapoints grid)
    post_refusal: int = 0  # the next CreateTweet is refused with this X error code (226, 344); 0 = none


@dataclass
class _Data:
    seed: int
    now: str
    accounts: dict[str, Account]
    posts: dict[str, Post] = field(default_factory=dict)
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)  # auth_token -> {handle, ct0}
    registry: dict[str, dict[str, str | None]] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    latency_ms: int = 0
    last_id: int = 0


class SandboxState:
    """All mutable state of the sandbox behind one lock; the audience config is read-only."""

    def __init__(self, config: SandboxConfig, *, seed: int = 7, state_dir: Path | None = None) -> None:
        self.config = config
        self.audience = config.audience
        self._lock = threading.RLock()
        self._path = state_dir / STATE_FILE if state_dir else None
        self._data = self._fresh(seed, config.latency_ms)
        if self._path and self._path.exists():
            self._data = self._load(self._path)
            if self._data.seed != seed:
                log.warning(
                    "sandbox state in %s has seed %s; keeping it (asked %s)",
                    self._path,
                    self._data.seed,
                    seed,
                )
        elif self._path:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._save()

    # ---- persistence -------------------------------------------------------------------------------
    def _fresh(self, seed: int, latency_ms: int) -> _Data:
        acc = self.audience.account
        accounts = {acc.handle: Account(acc.handle, acc.name, acc.initial_followers)}
        for hosted in self.config.accounts:
            accounts[hosted.handle] = self._hosted(seed, hosted.handle, hosted.audience_seed)
        return _Data(
            seed=seed,
            now=self.audience.clock.start.astimezone(UTC).isoformat(),
            accounts=accounts,
            latency_ms=latency_ms,
        )

    def _hosted(self, seed: int, handle: str, audience_seed: int | None) -> Account:
        drawn = audience.account_audience(
            self.audience, audience.derived_seed(seed, handle) if audience_seed is None else audience_seed
        )
        return Account(
            handle,
            handle,
            drawn.initial_followers,
            audience_seed=drawn.audience_seed,
            reach=drawn.reach,
            rates=drawn.rates,
        )

    @staticmethod
    def _load(path: Path) -> _Data:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != SNAPSHOT_VERSION:
            raise SandboxStateError(
                f"{path}: snapshot version {raw.get('version')!r} is not {SNAPSHOT_VERSION}"
            )
        return _Data(
            seed=raw["seed"],
            now=raw["now"],
            accounts={h: Account(**a) for h, a in raw["accounts"].items()},
            posts={i: Post(**p) for i, p in raw["posts"].items()},
            sessions=raw["sessions"],
            registry=raw["registry"],
            faults=Faults(**raw["faults"]),
            latency_ms=raw["latency_ms"],
            last_id=raw["last_id"],
        )

    def _save(self) -> None:
        if self._path is None:
            return
        snapshot = {"version": SNAPSHOT_VERSION, **asdict(self._data)}
        tmp = self._path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(snapshot, fh)
        os.replace(tmp, self._path)

    def reset(self) -> None:
        """Back to the initial state of this seed (posts, sessions, registry, faults, clock all cleared)."""
        with self._lock:
            self._data = self._fresh(self._data.seed, self.config.latency_ms)
            self._save()

    @property
    def seed(self) -> int:
        return self._data.seed

    # ---- clock -------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.fromisoformat(self._data.now)

    def set_clock(self, when: datetime) -> datetime:
        if when.tzinfo is None:
            raise SandboxStateError("clock value needs a UTC offset, e.g. 2026-01-05T08:00:00+00:00")
        with self._lock:
            self._data.now = when.astimezone(UTC).isoformat()
            self._save()
            return self.now()

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise SandboxStateError(f"advance_seconds must be >= 0, got {seconds}")
        return self.set_clock(self.now() + timedelta(seconds=seconds))

    # ---- faults and latency ------------------------------------------------------------------------
    @property
    def latency_ms(self) -> int:
        return self._data.latency_ms

    def set_faults(
        self,
        *,
        rate_limit_next: int | None = None,
        server_error_next: int | None = None,
        latency_ms: int | None = None,
    ) -> None:
        with self._lock:
            if rate_limit_next is not None:
                self._data.faults.rate_limit_next = rate_limit_next
            if server_error_next is not None:
                self._data.faults.server_error_next = server_error_next
            if latency_ms is not None:
                self._data.latency_ms = latency_ms
            self._save()

    @property
    def analytics_hidden(self) -> bool:
        return self._data.faults.analytics_hidden

    def hide_analytics(self, hidden: bool) -> None:
        with self._lock:
            self._data.faults.analytics_hidden = hidden
            self._save()

    def refuse_next_post(self, code: int) -> None:
        if code not in POST_REFUSALS:
            raise SandboxStateError(f"refuse_next_post must be 226 (automated) or 344 (daily limit): {code}")
        with self._lock:
            self._data.faults.post_refusal = code
            self._save()

    def take_post_refusal(self) -> tuple[int, str] | None:
        """The pending CreateTweet refusal (code, message), consumed; None when there is none."""
        with self._lock:
            code, self._data.faults.post_refusal = self._data.faults.post_refusal, 0
            if not code:
                return None
            self._save()
            return code, POST_REFUSALS[code]

    def take_fault(self) -> str | None:
        """Consume one pending injected failure for a site request: 'rate_limited', 'server_error' or None."""
        with self._lock:
            f = self._data.faults
            if f.rate_limit_next > 0:
                f.rate_limit_next -= 1
                self._save()
                return "rate_limited"
            if f.server_error_next > 0:
                f.server_error_next -= 1
                self._save()
                return "server_error"
            return None

    def faults(self) -> dict[str, Any]:
        return {
            **asdict(self._data.faults),
            "latency_ms": self._data.latency_ms,
            "protected": sorted(h for h, a in self._data.accounts.items() if a.protected),
            "deleted": sorted(i for i, p in self._data.posts.items() if p.deleted),
        }

    # ---- accounts and sessions ---------------------------------------------------------------------
    def account(self, handle: str) -> Account | None:
        for h, acc in self._data.accounts.items():
            if h.lower() == handle.lower():
                return acc
        return None

    @property
    def default_handle(self) -> str:
        return self.audience.account.handle

    def add_account(self, handle: str, audience_seed: int | None = None) -> Account:
        """Host another account with its own audience (admin; a reset keeps only the configured ones)."""
        if self.account(handle) is not None:
            raise SandboxStateError(f"sandbox account @{handle} exists already")
        with self._lock:
            acc = self._hosted(self._data.seed, handle, audience_seed)
            self._data.accounts[handle] = acc
            self._save()
            return acc

    def accounts(self) -> list[Account]:
        return list(self._data.accounts.values())

    def login(self, handle: str) -> tuple[str, str]:
        """A new session for an existing account: (auth_token, ct0)."""
        acc = self.account(handle)
        if acc is None:
            raise SandboxStateError(f"no sandbox account @{handle}")
        with self._lock:
            auth_token, ct0 = secrets.token_hex(20), secrets.token_hex(32)
            self._data.sessions[auth_token] = {"handle": acc.handle, "ct0": ct0}
            self._save()
            return auth_token, ct0

    def session_handle(self, auth_token: str | None) -> str | None:
        if not auth_token:
            return None
        session = self._data.sessions.get(auth_token)
        return session["handle"] if session else None

    def session_ct0(self, auth_token: str) -> str | None:
        session = self._data.sessions.get(auth_token)
        return session["ct0"] if session else None

    def expire_sessions(self) -> int:
        with self._lock:
            n = len(self._data.sessions)
            self._data.sessions.clear()
            self._save()
            return n

    def set_protected(self, handle: str, protected: bool) -> None:
        acc = self.account(handle)
        if acc is None:
            raise SandboxStateError(f"no sandbox account @{handle}")
        with self._lock:
            acc.protected = protected
            self._save()

    # ---- content registry --------------------------------------------------------------------------
    def remember_generated(
        self, text: str, *, content_type: str | None, hook_pattern: str | None, topic: str | None
    ) -> str:
        """Record a generated text so the audience perceives the post's arms; returns its hash.

        An arm that is None or not in the catalog is stored as None (neutral effect), with a warning.
        """
        arms = {"content_type": (content_type, CONTENT_TYPES), "hook_pattern": (hook_pattern, HOOK_PATTERNS)}
        entry: dict[str, str | None] = {"topic": topic}
        for scope, (arm, known) in arms.items():
            if arm is not None and arm not in known:
                log.warning("sandbox: generated text has unknown %s %r; treated as neutral", scope, arm)
                arm = None
            entry[scope] = arm
        key = content_hash(text)
        with self._lock:
            self._data.registry[key] = entry
            self._save()
        return key

    def perceived_content(self, text: str) -> dict[str, str | None] | None:
        return self._data.registry.get(content_hash(text))

    # ---- posts -------------------------------------------------------------------------------------
    def _next_id(self, at: datetime) -> str:
        ms = int(at.timestamp() * 1000) - TWITTER_EPOCH_MS
        candidate = (ms << 22) | (1 << 12)
        self._data.last_id = max(candidate, self._data.last_id + 1)
        return str(self._data.last_id)

    def create_post(self, handle: str, text: str) -> Post:
        """Publish at the virtual now and draw the true metrics; refuses empty, too long or duplicate text."""
        shown = normalize_text(text)
        if not shown:
            raise SandboxStateError("post text is empty")
        if len(shown) > 280:
            raise SandboxStateError(f"post text is {len(shown)} characters; the limit is 280")
        acc = self.account(handle)
        if acc is None:
            raise SandboxStateError(f"no sandbox account @{handle}")
        key = content_hash(text)
        with self._lock:
            if any(
                p.content_hash == key and p.handle == acc.handle and not p.deleted
                for p in self._data.posts.values()
            ):
                raise SandboxStateError("Status is a duplicate.")
            now = self.now()
            tweet_id = self._next_id(now)
            slot, hour, weekday = audience.perceive_time(self.audience, now)
            content = self._data.registry.get(key) or {}
            perceived = audience.Perceived(
                content.get("content_type"), content.get("hook_pattern"), slot, hour, weekday
            )
            followers = self.follower_count(acc.handle, now)
            seed = self._data.seed if acc.audience_seed is None else acc.audience_seed
            final = audience.draw_final_metrics(
                self.audience,
                perceived,
                followers,
                audience.post_rng(seed, tweet_id),
                reach=acc.reach,
                rates=acc.rates,
            )
            post = Post(
                tweet_id=tweet_id,
                handle=acc.handle,
                text=shown,
                content_hash=key,
                created_at=now.isoformat(),
                followers_at_post=followers,
                content_type=perceived.content_type,
                hook_pattern=perceived.hook_pattern,
                timing_slot=slot,
                local_hour=hour,
                weekday=weekday,
                final=final,
            )
            self._data.posts[tweet_id] = post
            self._save()
            return post

    def post(self, tweet_id: str) -> Post | None:
        return self._data.posts.get(tweet_id)

    def delete_post(self, tweet_id: str) -> None:
        with self._lock:
            post = self._data.posts.get(tweet_id)
            if post is None:
                raise SandboxStateError(f"no post {tweet_id}")
            post.deleted = True
            self._save()

    def posts_of(self, handle: str, *, limit: int = 100) -> list[Post]:
        """Live posts of an account, newest first."""
        mine = [p for p in self._data.posts.values() if p.handle.lower() == handle.lower() and not p.deleted]
        return sorted(mine, key=lambda p: int(p.tweet_id), reverse=True)[:limit]

    # ---- metrics -----------------------------------------------------------------------------------
    def metrics_at(self, post: Post, at: datetime | None = None) -> dict[str, int]:
        at = at or self.now()
        age_hours = (at - post.created).total_seconds() / 3600
        return audience.accrued_metrics(self.audience, post.final, age_hours)

    def follower_count(self, handle: str, at: datetime | None = None) -> int:
        at = at or self.now()
        acc = self.account(handle)
        if acc is None:
            raise SandboxStateError(f"no sandbox account @{handle}")
        total = acc.initial_followers + audience.organic_followers(
            self.audience, self.audience.clock.start, at
        )
        for p in self._data.posts.values():
            if p.handle == acc.handle:
                total += self.metrics_at(p, at)["new_follows"]
        return total

    def ground_truth(self) -> dict[str, Any]:
        """Arm effects, every post's true final and accrued metrics, follower counts: diagnostics only."""
        now = self.now()
        return {
            "seed": self._data.seed,
            "now": now.isoformat(),
            "best_arms": best_arms(self),
            "arm_effects": {
                scope: {arm: eff.model_dump() for arm, eff in arms.items()}
                for scope, arms in self.audience.arms.items()
            },
            "followers": {h: self.follower_count(h, now) for h in self._data.accounts},
            "accounts": {h: asdict(a) for h, a in self._data.accounts.items()},
            "posts": [
                {
                    **{k: v for k, v in asdict(p).items() if k != "final"},
                    "final": p.final,
                    "accrued": self.metrics_at(p, now),
                }
                for p in sorted(self._data.posts.values(), key=lambda p: int(p.tweet_id))
            ],
        }


def best_arms(state: SandboxState) -> dict[str, str]:
    """Per scope, the arm with the highest follow x engagement multiplier (the one learning should find)."""
    return {
        scope: max(arms, key=lambda a: arms[a].follow * arms[a].engagement)
        for scope, arms in state.audience.arms.items()
    }
