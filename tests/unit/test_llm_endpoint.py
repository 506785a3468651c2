"""The real openai client against the sandbox endpoint over HTTP: backoff, quota, faults, determinism."""

from __future__ import annotations

import logging
import random

import httpx
import pytest

from tests.plugins.llm import LLMEndpoint
from xbot_core.adapters.llm.client import OpenAIChatClient
from xbot_core.adapters.llm.retry import BackoffPolicy
from xbot_core.domain.features import clean_output, validate_post
from xbot_core.errors import LLMError, QuotaExceededError
from xbot_core.sandbox.llm_endpoint import count_tokens, prompt_tokens

KEY = "sk-test-DO-NOT-LOG-1234567890"
MESSAGES = [
    {"role": "system", "content": "You write posts for X."},
    {
        "role": "user",
        "content": "content_type: tip\nhook_pattern: question_cta\ntopic: code review\nWrite it.",
    },
]


class Sleeps:
    """Records the requested sleeps instead of sleeping, so tests stay fast."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _client(ep: LLMEndpoint, sleeps: Sleeps, *, timeout_s: float = 5.0, seed: int = 11) -> OpenAIChatClient:
    return OpenAIChatClient(
        api_key=KEY,
        base_url=ep.base_url,
        model="gpt-4o-mini",
        timeout_s=timeout_s,
        sleep=sleeps,
        rng=random.Random(seed),
    )


def test_two_rate_limits_then_success_three_attempts_delays_in_jitter_bounds(
    llm_endpoint: LLMEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    llm_endpoint.faults(rate_limit=2)
    sleeps = Sleeps()
    caplog.set_level(logging.DEBUG)
    result = _client(llm_endpoint, sleeps).complete(MESSAGES, purpose="generate_post", max_tokens=120)
    assert result.attempts == 3
    assert llm_endpoint.stats()["requests"] == 3
    assert llm_endpoint.stats()["errors"] == {"rate_limit": 2}
    p = BackoffPolicy()
    assert len(sleeps.delays) == 2
    for retry, d in enumerate(sleeps.delays, 1):
        lo, hi = p.bounds(retry)
        assert lo <= d <= hi, (retry, d)
    lines = [r.getMessage() for r in caplog.records if "OPENAI_BACKOFF" in r.getMessage()]
    assert len(lines) == 2
    assert lines[0].startswith("OPENAI_BACKOFF purpose=generate_post attempt=1 delay=")
    assert "attempt=2" in lines[1]
    assert KEY not in caplog.text
    assert result.text and result.prompt_tokens > 0 and result.completion_tokens > 0


def test_three_rate_limits_give_up_after_two_retries(llm_endpoint: LLMEndpoint) -> None:
    llm_endpoint.faults(rate_limit=5)
    sleeps = Sleeps()
    with pytest.raises(LLMError, match="rate limited after 3 attempts") as info:
        _client(llm_endpoint, sleeps).complete(MESSAGES, purpose="t", max_tokens=50)
    assert info.value.attempts == 3  # type: ignore[attr-defined]
    assert llm_endpoint.stats()["requests"] == 3
    assert len(sleeps.delays) == 2


def test_longer_retry_after_is_honoured(llm_endpoint: LLMEndpoint) -> None:
    llm_endpoint.faults(rate_limit=1, retry_after_s=1.7)
    sleeps = Sleeps()
    _client(llm_endpoint, sleeps).complete(MESSAGES, purpose="t", max_tokens=50)
    assert sleeps.delays == [1.7]


def test_insufficient_quota_is_one_attempt_and_never_retried(llm_endpoint: LLMEndpoint) -> None:
    llm_endpoint.faults(insufficient_quota=1)
    sleeps = Sleeps()
    with pytest.raises(QuotaExceededError) as info:
        _client(llm_endpoint, sleeps).complete(MESSAGES, purpose="t", max_tokens=50)
    assert info.value.attempts == 1  # type: ignore[attr-defined]
    assert llm_endpoint.stats()["requests"] == 1
    assert sleeps.delays == []


def test_server_errors_and_timeouts_follow_the_same_schedule(llm_endpoint: LLMEndpoint) -> None:
    llm_endpoint.faults(server_error=1, slow_ms=1500, slow_count=1)
    sleeps = Sleeps()
    # 500, then a response slower than the 0.5 s timeout, then success
    result = _client(llm_endpoint, sleeps, timeout_s=0.5).complete(MESSAGES, purpose="t", max_tokens=50)
    assert result.attempts == 3
    assert llm_endpoint.stats()["requests"] == 3
    assert 0.35 <= sleeps.delays[0] <= 0.65 and 0.7 <= sleeps.delays[1] <= 1.3


def test_answer_is_deterministic_plausible_and_perceived(llm_endpoint: LLMEndpoint) -> None:
    c = _client(llm_endpoint, Sleeps())
    a = c.complete(MESSAGES, purpose="t", max_tokens=120, seed=5)
    b = c.complete(MESSAGES, purpose="t", max_tokens=120, seed=5)
    other = c.complete(MESSAGES, purpose="t", max_tokens=120, seed=6)
    assert a.text == b.text
    assert a.text != other.text
    assert "code review" in a.text.lower()
    assert validate_post(clean_output(a.text), allow_hashtags=False).ok
    assert a.prompt_tokens == prompt_tokens(MESSAGES)
    assert a.completion_tokens == count_tokens(a.text)
    assert llm_endpoint.state.perceived_content(a.text) == {
        "content_type": "tip",
        "hook_pattern": "question_cta",
        "topic": "code review",
    }
    assert llm_endpoint.state.perceived_content(other.text) is not None


@pytest.mark.parametrize("kind", ["too_long", "too_many_emoji", "hashtags"])
def test_invalid_output_fault_breaks_validation_once(llm_endpoint: LLMEndpoint, kind: str) -> None:
    llm_endpoint.faults(invalid_output=1, invalid_kind=kind)
    c = _client(llm_endpoint, Sleeps())
    bad = c.complete(MESSAGES, purpose="t", max_tokens=400)
    good = c.complete(MESSAGES, purpose="t", max_tokens=400)
    assert not validate_post(clean_output(bad.text), allow_hashtags=False).ok
    assert validate_post(clean_output(good.text), allow_hashtags=False).ok


def test_max_tokens_truncates_with_finish_reason_length(llm_endpoint: LLMEndpoint) -> None:
    r = _client(llm_endpoint, Sleeps()).complete(MESSAGES, purpose="t", max_tokens=16)
    assert r.finish_reason == "length"
    assert r.completion_tokens <= 16


def test_error_shapes_without_key_and_bad_body(llm_endpoint: LLMEndpoint) -> None:
    url = llm_endpoint.base_url + "/chat/completions"
    r = httpx.post(url, json={"model": "m", "messages": MESSAGES})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    r = httpx.post(url, json={"model": "m"}, headers={"Authorization": "Bearer k"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    llm_endpoint.faults(rate_limit=1, retry_after_s=2)
    r = httpx.post(url, json={"model": "m", "messages": MESSAGES}, headers={"Authorization": "Bearer k"})
    assert r.status_code == 429 and r.headers["retry-after"] == "2"
    assert r.json()["error"]["code"] == "rate_limit_exceeded"
