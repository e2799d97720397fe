"""The real bridge server (uvicorn) on 127.0.0.1 in a thread, for receiver and API tests."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Self

import httpx2 as httpx
import uvicorn

from bridge.config.loader import parse_config
from bridge.config.models import BridgeConfig
from bridge.http.protocol import WRITE_TIMEOUT_S, header_timeout_protocol
from bridge.http.server import create_app
from bridge.receivers.signing import sign

API_KEY = "test-api-key-0123456789"
APP_ID = "app-under-test"
APP_SECRET = "whsec_test_secret_0123456789abcdef"
OTHER_APP_SECRET = "whsec_other_app_secret_0123456789"
TOKEN_SECRET = "test-token-secret-0123456789abcdef-xyz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bridge_config_text(
    tmp_path: Path,
    sink_endpoint: str,
    dify_url: str = "http://127.0.0.1:9",
    poller: str = "",
    exporter: str = "",
    queue: str = "",
    idle_timeout: str = "2s",
    otlp: str = "",
    workers: int = 0,
    local_dify: bool = True,
) -> str:
    """The bridge as the tests run it, as YAML; `poller` and `otlp` are those receivers' settings (none: no
    such receiver; no poller, no Dify API key), `exporter` and `queue` extra keys of the otlp exporter and
    of the queue, `workers` its pipeline worker processes, `local_dify` whether instances may be on 127.0.0.1
    (else the shipped outbound policy: public addresses only)."""
    dify_key = ', api_key: "app-poller-key"' if poller else ""
    receivers = "webhook, stream, proxy, poller" if poller else "webhook, stream, proxy"
    receivers += ", otlp" if otlp else ""
    extra = (", poller: " + poller if poller else "") + (", otlp: " + otlp if otlp else "")
    return f"""
receivers: {{webhook: {{max_body_bytes: 200000}}, stream: {{}}, proxy: {{}}{extra}}}
processors: {{detectors: {{}}, batch: {{timeout: 20ms}}}}
exporters: {{otlp: {{endpoint: "{sink_endpoint}", tls: {{insecure: true}}{", " + exporter if exporter else ""}}}}}
server:
  api_keys: ["{API_KEY}"]
  token_secret: {TOKEN_SECRET}
  store: "{tmp_path / "bridge.db"}"
  encryption_key: "{"A" * 43}="
  live_heartbeat: 200ms
  outbound: {{allowed_networks: [{"127.0.0.1/32" if local_dify else ""}]}}
  instances: [{{name: local-dify, base_url: "{dify_url}"{dify_key}}}]
  apps:
    - {{instance: local-dify, app_id: {APP_ID}, app_name: Support Bot, webhook_secret: {APP_SECRET}}}
    - {{instance: local-dify, app_id: app-other, app_name: Other, webhook_secret: {OTHER_APP_SECRET}}}
service:
  workers: {workers}
  assembly: {{terminal_wait: 100ms, idle_timeout: {idle_timeout}, decision_wait: 300ms, export_wait: 1s}}
  queue: {{path: "{tmp_path / "queue.db"}"{", " + queue if queue else ""}}}
  pipelines:
    traces: {{receivers: [{receivers}], processors: [detectors, batch], exporters: [otlp]}}
"""


def bridge_config(
    tmp_path: Path, sink_endpoint: str, dify_url: str = "http://127.0.0.1:9", poller: str = ""
) -> BridgeConfig:
    return parse_config(bridge_config_text(tmp_path, sink_endpoint, dify_url, poller), "test.yaml")


class ThreadedServer:
    """Any ASGI app under a real uvicorn on 127.0.0.1, in a thread."""

    def __init__(self, app: Any, **options: Any) -> None:
        # The listening socket is bound here and handed to uvicorn: no window for another test to take the port.
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.app = app
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, **options)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        # 30 s: on 2 busy cores (a test run beside other work) the start-up once took over 10 s.
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline:
                self.__exit__()  # the lifespan's process-wide settings (switch interval, gc freeze) given back
                raise AssertionError("the server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()


class BridgeServer(ThreadedServer):
    def __init__(self, config: BridgeConfig, write_seconds: float = WRITE_TIMEOUT_S) -> None:
        # As `serve` runs it (bridge/cli/commands.py).
        protocol = header_timeout_protocol(config.server.header_timeout, write_seconds)
        super().__init__(create_app(config), http=protocol, server_header=False)

    def token(self) -> str:
        response = httpx.post(f"{self.base}/api/v1/auth/token", json={"api_key": API_KEY})
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


def signed_headers(
    body: bytes,
    secret: str = APP_SECRET,
    timestamp: int | None = None,
    nonce: str | None = None,
    headers: Mapping[str, str] = MappingProxyType({}),
) -> dict[str, str]:
    """A sender's headers for `body`, with a fresh signed nonce unless `nonce` is given, and `headers` after them."""
    ts = int(time.time()) if timestamp is None else timestamp
    nonce = uuid.uuid4().hex if nonce is None else nonce
    return {
        "Content-Type": "application/json",
        "X-Pisama-API-Key": API_KEY,
        "X-Pisama-Timestamp": str(ts),
        "X-Pisama-Nonce": nonce,
        "X-Pisama-Signature": sign(secret, ts, nonce, body),
        **headers,
    }


def metric_sample(text: str, name: str, **labels: str) -> float:
    """The value of the one sample of `name` carrying `labels` (among others) in a Prometheus text page."""
    lines = [line for line in text.splitlines() if line.startswith(name + "{")]
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    (line,) = [line for line in lines if all(label in line for label in wanted)]
    return float(line.rsplit(" ", 1)[1])


def dumps(payload: Any) -> bytes:
    return json.dumps(payload).encode()
