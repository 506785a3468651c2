"""Generation against the real database and the real openai client over HTTP to the sandbox endpoint."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from tests.plugins.llm import LLMEndpoint
from xbot_core.adapters.db import repositories as repo
from xbot_core.adapters.llm.client import OpenAIChatClient
from xbot_core.domain.features import compute_features, validate_post
from xbot_core.domain.planning_types import PlannedDecision
from xbot_core.domain.text import content_hash
from xbot_core.services.loop.generation import DEFAULT_TOPICS, check_templates, generate_posts, topic_for
from xbot_core.services.operations.budget import BudgetedLLM
from xbot_core.settings import Settings, load_settings

pytestmark = pytest.mark.db

NOW = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)


def planned(n: int, *, seed: int = 1, ct: str = "tip", hp: str = "how_to") -> list[PlannedDecision]:
    rng = random.Random(seed)
    return [
        PlannedDecision(
            decision_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            content_type=ct,
            hook_pattern=hp,
            timing_slot="morning",
            scheduled_at=NOW + timedelta(hours=1, minutes=i),
            policy="thompson",
            p_content_type=0.5,
            p_hook_pattern=0.4,
            p_timing_slot=0.25,
            propensity=0.05,
        )
        for i in range(n)
    ]


def _llm(pool: ConnectionPool, ep: LLMEndpoint, limit: float = 5.0) -> tuple[BudgetedLLM, Settings]:
    settings = load_settings(openai_base_url=ep.base_url, llm_daily_budget_usd=limit)
    client = OpenAIChatClient.from_settings(settings, sleep=lambda s: None, rng=random.Random(0))
    return BudgetedLLM(pool, client, settings, now=lambda: NOW), settings


def _rows(db: str) -> list[tuple]:
    with psycopg.connect(db) as conn:
        return conn.execute(
            "SELECT decision_id, status, skip_reason, content, novelty, dup_penalty, readability_score,"
            " sentiment, generation_source, prompt_template, content_hash FROM content_metadata"
            " ORDER BY scheduled_at"
        ).fetchall()


def test_every_arm_combination_has_a_template() -> None:
    assert len(check_templates()) == 5 * 5 + 2


def test_generated_posts_are_queued_with_real_features(
    account_id: int, clean_db: str, db_pool: ConnectionPool, llm_endpoint: LLMEndpoint
) -> None:
    llm, settings = _llm(db_pool, llm_endpoint)
    plan = planned(3)
    results = generate_posts(
        db_pool, llm, plan, account_id=account_id, now=NOW, simulated=True, settings=settings
    )
    assert [r.status for r in results] == ["queued"] * 3
    rows = _rows(clean_db)
    assert len(rows) == 3
    earlier: list[str] = []
    for row, d in zip(rows, plan, strict=True):
        did, status, reason, text, novelty, dup, read, sent, source, template, h = row
        assert (did, status, reason, source, template) == (
            d.decision_id,
            "queued",
            None,
            "real",
            "tip__how_to",
        )
        assert validate_post(text, allow_hashtags=False).ok
        assert topic_for(d.decision_id, DEFAULT_TOPICS) in text
        # the stored features are the ones computed from the text against the posts queued before it
        f = compute_features(text, earlier)
        assert (novelty, dup, read, sent, h) == pytest.approx(
            (f.novelty, f.dup_penalty, f.readability_score, f.sentiment, content_hash(text))
        )
        earlier.append(text)
    assert rows[0][4] == 1.0  # nothing to compare the first post with
    assert rows[1][4] < 1.0
    with psycopg.connect(clean_db) as conn:
        assert conn.execute("SELECT count(*), min(status), max(status) FROM llm_usage").fetchone() == (
            3,
            "succeeded",
            "succeeded",
        )


def test_bad_output_never_reaches_the_queue(
    account_id: int, clean_db: str, db_pool: ConnectionPool, llm_endpoint: LLMEndpoint
) -> None:
    llm, settings = _llm(db_pool, llm_endpoint)
    plan = planned(2, seed=2)
    # first decision: invalid twice → skipped; second: invalid, then corrected on the retry → queued
    llm_endpoint.faults(invalid_output=3, invalid_kind="too_many_emoji")
    results = generate_posts(
        db_pool, llm, plan, account_id=account_id, now=NOW, simulated=True, settings=settings
    )
    assert [(r.status, r.llm_calls) for r in results] == [("skipped", 2), ("queued", 2)]
    assert results[0].skip_reason is not None
    assert re.fullmatch(r"invalid_output: it has [56] emoji; at most 3 are allowed", results[0].skip_reason)
    with psycopg.connect(clean_db) as conn:
        queued = repo.claim_next(conn, account_id, now=NOW + timedelta(days=1), worker="w", lease_s=60)
        assert queued is not None and queued.decision_id == plan[1].decision_id
        assert validate_post(queued.content, allow_hashtags=False).ok
        assert repo.claim_next(conn, account_id, now=NOW + timedelta(days=1), worker="w", lease_s=60) is None
    assert llm_endpoint.stats()["requests"] == 4


def test_duplicate_of_a_recent_post_is_skipped(
    account_id: int, clean_db: str, db_pool: ConnectionPool, llm_endpoint: LLMEndpoint
) -> None:
    llm, settings = _llm(db_pool, llm_endpoint)
    d = planned(1, seed=3)
    generate_posts(db_pool, llm, d, account_id=account_id, now=NOW, simulated=True, settings=settings)
    # a new decision for which the deterministic endpoint answers with the same text
    twin = PlannedDecision(**{**d[0].__dict__, "decision_id": uuid.UUID(int=d[0].decision_id.int + 2**96)})
    # same seed modulo 2**31 and same topic (decision_id.int % n): the sandbox repeats itself
    assert twin.decision_id.int % 2**31 == d[0].decision_id.int % 2**31
    assert topic_for(twin.decision_id, DEFAULT_TOPICS) == topic_for(d[0].decision_id, DEFAULT_TOPICS)
    [r] = generate_posts(
        db_pool, llm, [twin], account_id=account_id, now=NOW, simulated=True, settings=settings
    )
    assert r.status == "skipped" and r.skip_reason.startswith("duplicate: similarity 1.000")
    assert r.features is not None and r.features.novelty == pytest.approx(0.0)
    assert r.features.dup_penalty == 1.0


def test_budget_refusal_skips_the_rest_without_calls(
    account_id: int, clean_db: str, db_pool: ConnectionPool, llm_endpoint: LLMEndpoint
) -> None:
    llm, settings = _llm(db_pool, llm_endpoint, limit=0.0)
    results = generate_posts(
        db_pool, llm, planned(3, seed=4), account_id=account_id, now=NOW, simulated=True, settings=settings
    )
    assert [r.status for r in results] == ["skipped"] * 3
    assert all(r.skip_reason.startswith("budget_exceeded:") for r in results)
    assert [r.llm_calls for r in results] == [1, 0, 0]
    assert llm_endpoint.stats()["requests"] == 0
    assert all(row[3] is None for row in _rows(clean_db))
