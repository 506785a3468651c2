"""The one entry point per step of the loop: plan, post, collect, learn, report.

Flows, CLI commands and the demo call these and nothing else, each with the same `StepDeps` (built once from
settings by `xbot_core.services.wiring`). A step reads its configuration from `deps.settings` and its data
kind from `deps.simulated`; it never looks settings up and never decides real-or-simulated on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg_pool import ConnectionPool

from xbot_core.adapters.clock import Clock
from xbot_core.adapters.x_browser.models import XClient
from xbot_core.domain.bandit import BanditConfig
from xbot_core.domain.drift import DriftConfig
from xbot_core.domain.experiments import load_plan
from xbot_core.domain.planning_types import PlannedDecision
from xbot_core.errors import BudgetExceededError, CircuitOpenError, QuotaExceededError, SessionExpiredError
from xbot_core.services.loop import collection, learning, planning, posting
from xbot_core.settings import Settings

if TYPE_CHECKING:  # generation (sklearn) and reports (nbformat) load slowly: imported by their steps only
    from xbot_core.services.loop import generation
    from xbot_core.services.reporting import reports

# errors a retry cannot fix: an expired session needs `xbot x login`, quota/budget need a person or a new day
NEEDS_A_PERSON: tuple[type[BaseException], ...] = (
    SessionExpiredError,
    QuotaExceededError,
    BudgetExceededError,
    CircuitOpenError,
)


@dataclass(frozen=True)
class StepDeps:
    """What every step needs, opened once: the pool, the account, the clock, X and the LLM, the data kind, and
    the bandit's and drift alarm's configuration (built from settings by the wiring)."""

    pool: ConnectionPool
    account_id: int
    clock: Clock
    open_x: Callable[[], AbstractAsyncContextManager[XClient]]  # a browser for one block (or a shared one)
    make_llm: Callable[[], generation.GenerationLLM]  # the budgeted LLM
    simulated: bool  # the data kind, from configuration (Settings.x_is_sandbox)
    settings: Settings  # frozen, validated once at the edge
    bandit: BanditConfig  # XBOT_BANDIT_DISCOUNT / XBOT_BANDIT_WINDOW_DAYS on the defaults
    drift: DriftConfig  # XBOT_DRIFT_RECENT_DAYS / _MIN_POSTS / _Z_ALARM

    def now(self, override: datetime | None = None) -> datetime:
        """The explicit time when given, else the configured clock (system or sandbox virtual time)."""
        return override if override is not None else self.clock.now()


# --- plan --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanReport:
    """Decisions planned and what generation did with each (queued, or skipped with the reason)."""

    planned: list[PlannedDecision]
    results: list[generation.GenerationResult]
    experiments: int | None  # experiments stored from the plan (None: no start day given)
    advanced: int  # experiments whose status moved

    @property
    def queued(self) -> int:
        return sum(r.status == "queued" for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "planned": len(self.planned),
            "queued": self.queued,
            "skipped": [
                {"decision_id": str(r.decision_id), "status": r.status, "skip_reason": r.skip_reason}
                for r in self.results
                if r.status != "queued"
            ],
            "experiments": self.experiments,
        }


def plan_step(
    deps: StepDeps,
    *,
    count: int,
    seed: int | None = None,
    experiment_start: date | None = None,
    topics: Sequence[str] | None = None,
    now: datetime | None = None,
) -> PlanReport:
    """Experiments up to date, `count` decisions planned (bandit + experiments), their posts generated.

    `experiment_start` stores the configured experiment plan from that day (idempotent: pass the same day);
    `topics` default to the built-in list.
    """
    from xbot_core.services.loop import generation

    at = deps.now(now)
    experiments = _ensure_experiments(deps, experiment_start) if experiment_start is not None else None
    advanced = planning.advance_experiment_status(deps.pool, deps.account_id, now=at)
    planned = planning.plan_posts(
        deps.pool,
        deps.account_id,
        now=at,
        count=count,
        rng=np.random.default_rng(seed),
        simulated=deps.simulated,
        cfg=deps.bandit,
    )
    results = generation.generate_posts(
        deps.pool,
        deps.make_llm(),
        planned,
        account_id=deps.account_id,
        now=at,
        simulated=deps.simulated,
        settings=deps.settings,
        topics=topics or generation.DEFAULT_TOPICS,
    )
    return PlanReport(planned, results, experiments, advanced)


def _ensure_experiments(deps: StepDeps, start: date) -> int:
    plan = load_plan(deps.settings.experiment_plan)
    return len(planning.ensure_experiments(deps.pool, deps.account_id, plan, start))


# --- post --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostReport:
    """One posting run: shadow skips, expired claims reconciled, and each publish attempt."""

    mode: str
    skipped: int = 0
    reconciled: posting.ReconcileReport | None = None
    posts: list[posting.PostResult] = field(default_factory=list)
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        rec = self.reconciled
        return {
            "mode": self.mode,
            "skipped": self.skipped,
            "reconciled": {k: [str(d) for d in v] for k, v in asdict(rec).items()} if rec else {},
            "posts": [
                {**asdict(p), "decision_id": str(p.decision_id) if p.decision_id else None}
                for p in self.posts
            ],
            "note": self.note,
        }


async def post_step(deps: StepDeps, *, max_posts: int = 1, now: datetime | None = None) -> PostReport:
    """Shadow mode closes due decisions as skipped; live mode reconciles expired claims, then publishes up to
    `max_posts` due decisions exactly once. No browser is opened when there is nothing to do."""
    at = deps.now(now)
    mode = deps.settings.mode
    if mode != "live":
        return PostReport(mode, skipped=posting.skip_due_in_shadow(deps.pool, deps.account_id, now=at))
    due, expired = posting.pending_work(deps.pool, deps.account_id, now=at)
    if due == 0 and expired == 0:
        return PostReport(mode, note="nothing due, no expired claims")
    async with deps.open_x() as x:
        reconciled = (
            await posting.reconcile(deps.pool, x, account_id=deps.account_id, now=at, settings=deps.settings)
            if expired
            else None
        )
        posts = await posting.post_due(
            deps.pool,
            x,
            account_id=deps.account_id,
            now=at,
            settings=deps.settings,
            max_posts=max_posts if due else 0,
        )
    return PostReport(mode, reconciled=reconciled, posts=posts)


# --- collect -----------------------------------------------------------------------------------------------


async def collect_step(
    deps: StepDeps, *, limit: int = 500, now: datetime | None = None
) -> collection.CollectionReport:
    """Every due pass (T+1h, T+24h) not stored yet, however late, plus a follower snapshot."""
    skipped = collection.skipped_reason(deps.settings)
    if skipped is not None:
        return collection.CollectionReport(skipped=skipped)
    at = deps.now(now)
    async with deps.open_x() as x:
        return await collection.collect_due(
            deps.pool,
            x,
            account_id=deps.account_id,
            now=at,
            settings=deps.settings,
            simulated=deps.simulated,
            limit=limit,
        )


# --- learn -------------------------------------------------------------------------------------------------


def learn_step(
    deps: StepDeps, *, seed: int = 0, now: datetime | None = None, prior_weight: float | None = None
) -> learning.LearnResult:
    """Rewards under the account's reward version (default: the active one) and the bandit posteriors rebuilt
    (with the configured discount or window), the drift alarm checked, for the configured data kind; started
    from the imported history, each post counting `prior_weight` of a live one, when given (default
    XBOT_HISTORY_PRIOR_WEIGHT, so scheduled runs keep the prior `xbot learn --prior-from-history` set)."""
    weight = prior_weight if prior_weight is not None else deps.settings.history_prior_weight
    return learning.learn(
        deps.pool,
        deps.account_id,
        simulated=deps.simulated,
        now=deps.now(now),
        cfg=deps.bandit,
        drift=deps.drift,
        seed=seed,
        history_prior_weight=weight,
        reward_version=deps.settings.reward_version,
    )


# --- report ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRun:
    """The reports rendered for one day."""

    kind: str
    day: date
    rendered: list[reports.Rendered]

    def as_dict(self) -> dict[str, Any]:
        return {
            "report_date": self.day.isoformat(),
            "kind": self.kind,
            "rendered": [str(r.html) for r in self.rendered],
        }


def report_step(
    deps: StepDeps,
    *,
    kind: str,
    day: date | None = None,
    start: date | None = None,
    seed: int = 7,
    simulated: bool | None = None,
    now: datetime | None = None,
) -> ReportRun:
    """Render the `kind` reports (daily | experiment | reward | bandit | all) for `day` (default: yesterday
    by the clock); the experiment report covers the 7 days from `start` (default: 6 days before `day`).
    `simulated` overrides the configured data kind (`xbot report --data`)."""
    from xbot_core.services.reporting import reports

    day = day or deps.now(now).date() - timedelta(days=1)
    rendered = reports.render_kind(
        kind,
        day=day,
        start=start or day - timedelta(days=6),
        simulated=deps.simulated if simulated is None else simulated,
        seed=seed,
        settings=deps.settings,
    )
    return ReportRun(kind, day, rendered)
