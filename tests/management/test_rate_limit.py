from __future__ import annotations

from pathlib import Path

import httpx2 as httpx

from bridge.config.loader import parse_config
from bridge.management.rate_limit import RateLimitConfig, RateLimiter
from tests.bridge_server import API_KEY, BridgeServer, bridge_config_text
from tests.otlp_sink import OtlpSink


def test_a_bucket_per_key_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(RateLimitConfig(requests_per_second=2, burst=3), clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [None, None, None]
    assert limiter.take("a") == 0.5  # a token every half second
    assert limiter.take("b") is None  # another key has its own bucket
    now[0] = 0.5
    assert limiter.take("a") is None and limiter.take("a") is not None
    now[0] = 100.0
    assert [limiter.take("a") for _ in range(4)][-1] is not None  # refills to the burst, not beyond


def test_no_limit_at_zero() -> None:
    limiter = RateLimiter(RateLimitConfig(requests_per_second=0, burst=1))
    assert all(limiter.take("a") is None for _ in range(10_000))


def test_a_key_over_its_limit_gets_429_with_retry_after(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    second_key = "second-api-key-0123456789"
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint).replace(
        f'api_keys: ["{API_KEY}"]',
        f'api_keys: ["{API_KEY}", "{second_key}"]\n  rate_limit: {{requests_per_second: 0.5, burst: 3}}',
    )
    with BridgeServer(parse_config(text)) as bridge:
        url = f"{bridge.base}/api/v1/auth/token"
        answers = [httpx.post(url, json={"api_key": API_KEY}) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[-1].json()["error"] == "rate_limited" and answers[-1].headers["retry-after"] == "2"
        token = answers[0].json()["access_token"]
        listed = httpx.get(f"{bridge.base}/api/v1/dify/apps", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 429  # the token spends its key's budget too
        assert httpx.post(url, json={"api_key": second_key}).status_code == 200
        assert API_KEY not in answers[-1].text
