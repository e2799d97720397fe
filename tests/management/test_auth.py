"""API key scopes, tokens tied to the key that asked for them, slowed-down guessing (issue 24 #2, #13, #14)."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
import jwt
import pytest
from pydantic import ValidationError

from bridge.config.errors import ConfigError
from bridge.config.loader import parse_config
from bridge.http.errors import ApiError
from bridge.management.auth import Authenticator
from bridge.management.settings import ServerConfig
from tests.bridge_process import BridgeProcess
from tests.bridge_server import API_KEY, BridgeServer, bridge_config_text, dumps, signed_headers
from tests.otlp_sink import OtlpSink
from tests.receivers.test_webhook import PAYLOAD

INGEST_KEY = "ingest-only-key-0123456789"
MANAGE_KEY = "manage-only-key-0123456789"


def _bridge(tmp_path: Path, otlp_sink: OtlpSink, keys: str, extra: str = "") -> BridgeServer:
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, otlp="{}")
    text = text.replace(f'api_keys: ["{API_KEY}"]', keys + extra)
    return BridgeServer(parse_config(text, "test.yaml"))


def _token(bridge: BridgeServer, key: str, source: str = "127.0.0.1") -> httpx.Response:
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source)) as client:
        return client.post(f"{bridge.base}/api/v1/auth/token", json={"api_key": key})


def _webhook(bridge: BridgeServer, key: str) -> httpx.Response:
    body = dumps(PAYLOAD)
    return httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body,
                      headers=signed_headers(body, headers={"X-Pisama-API-Key": key}))  # fmt: skip


def test_an_ingest_key_sends_runs_but_cannot_manage(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    keys = (f'api_keys: ["{API_KEY}", {{key: {INGEST_KEY}, scopes: [ingest]}}, '
            f"{{key: {MANAGE_KEY}, scopes: [manage]}}]")  # fmt: skip
    with _bridge(tmp_path, otlp_sink, keys) as bridge:
        refused = _token(bridge, INGEST_KEY)
        assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
        assert "its scopes: ingest" in refused.json()["detail"] and INGEST_KEY not in refused.text
        assert _webhook(bridge, INGEST_KEY).status_code == 202
        sender = _webhook(bridge, MANAGE_KEY)
        assert sender.status_code == 403 and sender.json()["error"] == "insufficient_scope"
        otlp = {"content-type": "application/x-protobuf"}
        assert httpx.post(f"{bridge.base}/v1/traces", headers={**otlp, "api_key": INGEST_KEY}).status_code == 200
        assert httpx.post(f"{bridge.base}/v1/traces", headers={**otlp, "api_key": MANAGE_KEY}).status_code == 403
        assert _token(bridge, MANAGE_KEY).status_code == 200
        assert _token(bridge, API_KEY).status_code == 200  # a plain string may do both, as before scopes


def test_a_token_ends_with_the_key_that_asked_for_it(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    with _bridge(tmp_path, otlp_sink, f'api_keys: ["{API_KEY}", "{MANAGE_KEY}"]') as bridge:
        token = _token(bridge, MANAGE_KEY).json()["access_token"]
        assert httpx.get(f"{bridge.base}/api/v1/audit", headers={"Authorization": f"Bearer {token}"}).is_success
    with _bridge(tmp_path, otlp_sink, f'api_keys: ["{API_KEY}"]') as bridge:  # the key removed; same secret
        answer = httpx.get(f"{bridge.base}/api/v1/audit", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
        assert "no longer accepted" in answer.json()["detail"]
        live = httpx.get(f"{bridge.base}/api/v1/dify/stream", params={"token": token})
        assert live.status_code == 401


def test_failed_attempts_slow_an_address_down_right_keys_included(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    limits = "\n  rate_limit: {failed_attempts_per_minute: 6, failed_attempts_burst: 3}"
    with _bridge(tmp_path, otlp_sink, f'api_keys: ["{API_KEY}"]', limits) as bridge:
        guesses = [_token(bridge, f"guess-{n:02d}-0123456789abc").status_code for n in range(3)]
        assert guesses == [401, 401, 401]
        for key in ("guess-03-0123456789abc", API_KEY):
            refused = _token(bridge, key)
            assert refused.status_code == 429 and refused.json()["error"] == "too_many_failures"
            assert int(refused.headers["retry-after"]) >= 1
        bad_token = httpx.get(f"{bridge.base}/api/v1/audit", headers={"Authorization": "Bearer not-a-jwt"})
        assert bad_token.status_code == 429
        assert _webhook(bridge, API_KEY).status_code == 429  # the signed receivers count the same failures
        assert _token(bridge, API_KEY, source="127.0.0.2").status_code == 200  # other addresses are unaffected


@pytest.mark.parametrize("key", ["Q", "short-key-0123", "aaaaaaaaaaaaaaaaaaaaaaaa", "abababababababababab"])
def test_a_guessable_key_is_refused_by_position_not_value(key: str) -> None:
    text = f'server: {{api_keys: ["long-enough-key-0123456789", "{key}"]}}\n'
    with pytest.raises(ConfigError) as raised:
        parse_config(text, "bridge.yaml")
    message = str(raised.value)
    assert 'bridge.yaml:1: server.api_keys: "api_keys"[1] is too easy to guess' in message
    assert key not in message.replace("api_keys", "")


SENDER_KEY = """server:
  api_keys:
    - "${env:BRIDGE_API_KEY}"
    - {key: "${env:BRIDGE_WEBHOOK_KEY%s}", scopes: [ingest]}
exporters: {console: }
service: {pipelines: {traces: {exporters: [console]}}}
"""


def test_an_unset_variable_under_key_is_named_once_not_also_called_guessable() -> None:
    # README's config: the webhook key's variable unset is one error, the variable's, on its own line.
    with pytest.raises(ConfigError) as raised:
        parse_config(SENDER_KEY % "", "bridge.yaml", {"BRIDGE_API_KEY": API_KEY})
    assert str(raised.value).splitlines() == [
        "bridge.yaml:4: server.api_keys.1.key: environment variable BRIDGE_WEBHOOK_KEY is not set"
        ": export it, or give it a default: ${env:BRIDGE_WEBHOOK_KEY:-default}"
    ]


def test_a_key_left_empty_by_its_variable_default_is_no_key() -> None:
    config = parse_config(SENDER_KEY % ":-", "bridge.yaml", {"BRIDGE_API_KEY": API_KEY})
    assert config.server.key_scopes() == {API_KEY: frozenset({"ingest", "manage"})}


def test_a_token_secret_is_32_characters_or_more_and_unset_is_random_per_start() -> None:
    # README's configuration: `token_secret` "32+ characters; unset: random per start" (security.md: tokens die
    # with the process).
    with pytest.raises(ValidationError, match="at least 32 characters"):
        ServerConfig(api_keys=[API_KEY], token_secret="s" * 31)
    kept = ServerConfig(api_keys=[API_KEY], token_secret="s" * 32)
    token = Authenticator(kept).issue(API_KEY, None)
    claims = jwt.decode(token, "s" * 32, algorithms=["HS256"])  # security.md: HS256, `server.token_ttl` (1 h)
    assert claims["exp"] - claims["iat"] == 3600
    assert Authenticator(kept).verify(token, None)  # the same secret, a new start: the token still works
    unset = ServerConfig(api_keys=[API_KEY])
    token = Authenticator(unset).issue(API_KEY, None)
    with pytest.raises(ApiError) as refused:
        Authenticator(unset).verify(token, None)
    assert refused.value.status == 401


@pytest.mark.parametrize(("trusted", "fourth"), [("", 429), ("\n  trusted_proxies: [127.0.0.1]", 401)])
def test_a_claimed_forwarded_address_counts_only_from_a_trusted_proxy(
    tmp_path: Path, otlp_sink: OtlpSink, processes: list[BridgeProcess], trusted: str, fourth: int
) -> None:
    # The served bridge (uvicorn believes X-Forwarded-For from any local client unless told otherwise): a client
    # on the bridge's own host must not spread its failed attempts over addresses it claims.
    config = tmp_path / "bridge.yaml"
    limits = "\n  rate_limit: {failed_attempts_per_minute: 6, failed_attempts_burst: 3}"
    config.write_text(
        bridge_config_text(tmp_path, otlp_sink.grpc_endpoint).replace("server:", "server:" + limits + trusted)
    )
    bridge = BridgeProcess(config).start()
    processes.append(bridge)
    answers = [
        httpx.post(f"{bridge.base}/api/v1/auth/token", json={"api_key": f"guess-{n:02d}-0123456789abc"},
                   headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(4)
    ]  # fmt: skip
    assert answers == [401, 401, 401, fourth]


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert ServerConfig(trusted_proxies=["10.0.0.5", "10.0.0.0/8", "::1"]).trusted_proxies[1] == "10.0.0.0/8"
    with pytest.raises(ValidationError, match="not an IP address or network"):
        ServerConfig(trusted_proxies=["proxy.internal"])
