"""The retry policy in isolation: schedule, jitter bounds, retry-after, which errors are transient."""

from __future__ import annotations

import random

import httpx
import openai
import pytest

from xbot_core.adapters.llm.retry import (
    BackoffPolicy,
    is_quota_error,
    retry_after_seconds,
    transient_reason,
)

REQ = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")


def _status_error(
    cls: type[openai.APIStatusError],
    status: int,
    code: str | None,
    type_: str,
    headers: dict[str, str] | None = None,
) -> openai.APIStatusError:
    resp = httpx.Response(status, request=REQ, headers=headers or {})
    return cls("x", response=resp, body={"message": "x", "type": type_, "code": code})


def test_schedule_is_500ms_1s_2s_with_30_percent_jitter() -> None:
    p = BackoffPolicy()
    assert [p.nominal(i) for i in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert p.bounds(1) == pytest.approx((0.35, 0.65))
    assert p.bounds(2) == pytest.approx((0.7, 1.3))
    rng = random.Random(1)
    for retry in (1, 2):
        lo, hi = p.bounds(retry)
        delays = [p.delay(retry, rng) for _ in range(2000)]
        assert lo <= min(delays) and max(delays) <= hi
        # jitter really spreads over the band, not a constant
        assert max(delays) - min(delays) > 0.9 * (hi - lo)


def test_longer_retry_after_wins_shorter_is_ignored() -> None:
    p = BackoffPolicy()
    rng = random.Random(3)
    assert p.delay(1, rng, retry_after_s=4.0) == 4.0
    d = p.delay(1, rng, retry_after_s=0.1)
    assert 0.35 <= d <= 0.65


def test_quota_is_never_transient_rate_limit_and_5xx_are() -> None:
    quota = _status_error(openai.RateLimitError, 429, "insufficient_quota", "insufficient_quota")
    limited = _status_error(openai.RateLimitError, 429, "rate_limit_exceeded", "requests")
    server = _status_error(openai.InternalServerError, 500, None, "server_error")
    bad = _status_error(openai.BadRequestError, 400, None, "invalid_request_error")
    assert is_quota_error(quota) and transient_reason(quota) is None
    assert transient_reason(limited) == "rate_limit"
    assert transient_reason(server) == "server_error"
    assert transient_reason(bad) is None
    assert transient_reason(openai.APITimeoutError(request=REQ)) == "timeout"
    assert transient_reason(ValueError("x")) is None


def test_retry_after_headers() -> None:
    assert (
        retry_after_seconds(_status_error(openai.RateLimitError, 429, None, "requests", {"retry-after": "2"}))
        == 2.0
    )
    assert (
        retry_after_seconds(
            _status_error(
                openai.RateLimitError, 429, None, "requests", {"retry-after-ms": "1500", "retry-after": "9"}
            )
        )
        == 1.5
    )
    assert retry_after_seconds(_status_error(openai.RateLimitError, 429, None, "requests")) is None
