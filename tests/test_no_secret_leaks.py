"""Bridge API keys, access tokens, Dify API keys and webhook secrets never show in the bridge's logs (at
INFO, access log included), in exported spans, in /metrics or in any answer but the one that issues them."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.bridge_process import BridgeProcess, wait_until
from tests.bridge_server import (
    API_KEY,
    APP_ID,
    APP_SECRET,
    OTHER_APP_SECRET,
    ThreadedServer,
    bridge_config_text,
    dumps,
    free_port,
    signed_headers,
)
from tests.fake_dify import FakeDify
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES, EXAMPLES

DIFY_KEY = "app-DifyAppKey0123456789abcdef"
QUERY_SECRET = "sk-proj-QueryKey0123456789abcdef"
URL_PASSWORD = "UrlPassword0123456789"


@pytest.fixture
def dify() -> Iterator[ThreadedServer]:
    """A live upstream for the proxy: the HTTP client logs the calls that were answered."""
    with ThreadedServer(FakeDify().app) as server:
        yield server


def test_no_secret_reaches_logs_spans_metrics_or_error_bodies(
    tmp_path: Path, otlp_sink: OtlpSink, processes: list[BridgeProcess], dify: ThreadedServer
) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text(bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, dify_url=dify.base))
    bridge = BridgeProcess(config)
    processes.append(bridge.start())
    answers: list[httpx.Response] = []
    base = bridge.base

    token = httpx.post(f"{base}/api/v1/auth/token", json={"api_key": API_KEY}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    dead = f"http://127.0.0.1:{free_port()}"
    instance = httpx.post(f"{base}/api/v1/dify/instances", headers=auth,
                          json={"name": "prod", "base_url": dead, "api_key": DIFY_KEY})  # fmt: skip
    answers.append(instance)
    created = httpx.post(f"{base}/api/v1/dify/apps", headers=auth,
                         json={"instance_id": instance.json()["id"], "app_id": "chat", "app_name": "Chat"})  # fmt: skip
    issued = created.json()["webhook_secret"]  # shown once, in this answer only
    with_password = {"name": "pw", "base_url": f"https://u:{URL_PASSWORD}@dify.example.com"}
    answers.append(httpx.post(f"{base}/api/v1/dify/instances", headers=auth, json=with_password))
    assert answers[-1].status_code == 422  # a password in a base URL is refused, so never stored or listed
    answers += [httpx.get(f"{base}/api/v1/dify/{kind}", headers=auth) for kind in ("instances", "apps")]

    # The live feed with its token in the query string, as EventSource clients must send it.
    def listen() -> None:
        try:
            with httpx.stream("GET", f"{base}/api/v1/dify/stream?token={token}", timeout=3) as response:
                for _ in response.iter_bytes():
                    pass
        except httpx.TransportError:
            pass

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()

    payload = {**json.loads((EXAMPLES / "webhook_full.json").read_text()), "app_id": APP_ID}
    payload["workflow_run_id"] = str(uuid.uuid4())
    body = dumps(payload)
    answers.append(httpx.post(f"{base}/api/v1/dify/webhook", content=body, headers=signed_headers(body)))
    stream = (CAPTURES / "a_simple_http.sse").read_bytes()
    stream_headers = {**signed_headers(stream, headers={"X-Dify-App-Id": APP_ID}), "Content-Type": "text/event-stream"}
    answers.append(httpx.post(f"{base}/api/v1/dify/events", content=stream, headers=stream_headers))
    # Failures of every kind, each with secrets in the request.
    answers.append(httpx.post(f"{base}/api/v1/dify/webhook", content=body,
                              headers=signed_headers(body, secret=OTHER_APP_SECRET)))  # fmt: skip
    answers.append(httpx.post(f"{base}/api/v1/dify/webhook", content=body,
                              headers={**signed_headers(body), "X-Pisama-API-Key": API_KEY + "x"}))  # fmt: skip
    answers.append(httpx.post(f"{base}/api/v1/auth/token", json={"api_key": API_KEY[:-1]}))
    answers.append(httpx.post(f"{base}/prod/v1/workflows/run", json={"response_mode": "streaming"},
                              headers={"Authorization": f"Bearer {DIFY_KEY}"}))  # fmt: skip
    answers.append(httpx.get(f"{base}/api/v1/dify/apps", headers={"Authorization": f"Bearer {token}x"}))
    assert [a.status_code for a in answers[-5:]] == [401, 401, 401, 502, 401]
    proxied = httpx.get(f"{base}/local-dify/v1/parameters?user={QUERY_SECRET}", headers={"Authorization": DIFY_KEY})
    assert proxied.status_code == 200
    answers.append(httpx.get(f"{base}/metrics"))
    wait_until(lambda: len(otlp_sink.spans()) >= 14, 20.0, "both runs")
    listener.join(5)
    bridge.stop()

    secrets = {"bridge API key": API_KEY, "access token": token, "Dify API key": DIFY_KEY,
               "declared webhook secret": APP_SECRET, "other webhook secret": OTHER_APP_SECRET,
               "issued webhook secret": issued, "proxied query": QUERY_SECRET,
               "base URL password": URL_PASSWORD}  # fmt: skip
    places = {
        "log": bridge.log.read_text(),
        "spans": json.dumps([(s.name, s.attributes, s.events, s.status_message) for s in otlp_sink.spans()]),
        **{f"answer {i} ({a.request.method} {a.request.url.path})": a.text for i, a in enumerate(answers)},
    }
    assert "GET /api/v1/dify/stream?token=*** " in places["log"]  # logged, with the token masked
    assert "GET /local-dify/v1/parameters?user=*** " in places["log"]
    leaks = [(what, where) for what, secret in secrets.items() for where, text in places.items() if secret in text]
    assert leaks == []
