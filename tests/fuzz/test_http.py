"""The signed receivers fed random, validly signed bodies: every answer is a JSON refusal or an
acceptance, never a server error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from bridge.config.loader import parse_config
from bridge.http.server import create_app
from tests.bridge_server import APP_ID, bridge_config_text, signed_headers
from tests.fuzz.test_parsers import JSON

HTTP = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BODIES = st.binary(max_size=300) | st.builds(lambda o: json.dumps(o).encode(), JSON)
TYPES = st.sampled_from(["application/json", "application/x-ndjson", "text/event-stream", "text/plain", ""])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One running app for every example (starting one per example would take most of the budget)."""
    tmp_path = tmp_path_factory.mktemp("fuzz-http")
    text = bridge_config_text(tmp_path, "127.0.0.1:9").replace("max_body_bytes: 200000", "max_body_bytes: 2000")
    with TestClient(create_app(parse_config(text))) as running:
        yield running


@HTTP
@given(body=BODIES, content_type=TYPES)
def test_random_stream_bodies_never_cause_a_server_error(client: TestClient, body: bytes, content_type: str) -> None:
    headers = {**signed_headers(body, headers={"X-Dify-App-Id": APP_ID}), "Content-Type": content_type}
    answer = client.post("/api/v1/dify/events", content=body, headers=headers)
    assert answer.status_code in (202, 400, 413, 415, 422, 429), answer.text
    assert answer.status_code == 202 or answer.json()["detail"]


@HTTP
@given(body=BODIES, changes=st.dictionaries(st.sampled_from(["workflow_run_id", "app_id", "status", "nodes",
                                                             "started_at", "finished_at"]), JSON))  # fmt: skip
def test_random_webhook_bodies_never_cause_a_server_error(
    client: TestClient, body: bytes, changes: dict[str, Any]
) -> None:
    payloads = [body, json.dumps({"workflow_run_id": "r", "app_id": APP_ID, "status": "succeeded", **changes}).encode()]
    for payload in payloads:
        answer = client.post("/api/v1/dify/webhook", content=payload, headers=signed_headers(payload))
        assert answer.status_code in (200, 202, 400, 404, 413, 415, 422, 429), answer.text
