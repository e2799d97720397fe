from __future__ import annotations

import copy
import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.bridge_server import (
    API_KEY,
    APP_ID,
    APP_SECRET,
    OTHER_APP_SECRET,
    BridgeServer,
    bridge_config,
    dumps,
    metric_sample,
    signed_headers,
)
from tests.otlp_sink import OtlpSink
from tests.runs import EXAMPLES

PAYLOAD: dict[str, Any] = {**json.loads((EXAMPLES / "webhook_full.json").read_text()), "app_id": APP_ID}


@pytest.fixture
def bridge(tmp_path: Path, otlp_sink: OtlpSink) -> Iterator[BridgeServer]:
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as server:
        yield server


def _post(bridge: BridgeServer, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body, headers=headers)


def test_accepted_run_arrives_as_one_trace(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    body = dumps(PAYLOAD)
    response = _post(bridge, body, signed_headers(body))
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": True, "run_id": PAYLOAD["workflow_run_id"]}
    spans = otlp_sink.wait_for_spans(10)
    (root,) = [s for s in spans if s.parent_span_id is None]
    assert root.attributes["dify.source"] == "webhook"
    assert root.name == "invoke_workflow Support Bot"  # the registered name, over the payload's "Trip Planner"
    assert len({s.trace_id for s in spans}) == 1


def test_text_holding_a_lone_surrogate_is_taken(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    # JSON can escape one ("\\ud800"); the standard library's parser takes it, so every step after must too.
    payload = copy.deepcopy(PAYLOAD)
    payload["nodes"][0]["inputs"] = {"city": "Par\ud800is"}
    body = json.dumps(payload).encode()
    assert b"\\ud800" in body
    response = _post(bridge, body, signed_headers(body))
    assert response.status_code == 202, response.text
    assert len(otlp_sink.wait_for_spans(10)) == 10


def test_an_integer_past_pythons_digit_limit_is_a_number_too_large_not_a_500(
    bridge: BridgeServer, otlp_sink: OtlpSink
) -> None:
    # Python reads no integer of more than 4,300 digits: a ValueError the error handlers did not expect.
    long = "9" * 5_000
    body = dumps(PAYLOAD).replace(b'"total_tokens": 150', b'"total_tokens": ' + long.encode(), 1)
    refused = _post(bridge, body, signed_headers(body))
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [{"field": "total_tokens", "reason": "Expected `int | null`, got `float`"}]
    payload = copy.deepcopy(PAYLOAD)
    payload["nodes"][0]["inputs"] = {"count": 0}
    body = dumps(payload).replace(b'{"count": 0}', b'{"count": ' + long.encode() + b"}", 1)
    taken = _post(bridge, body, signed_headers(body))
    assert taken.status_code == 202, taken.text
    assert len(otlp_sink.wait_for_spans(10)) == 10


def test_duplicate_delivery_is_acknowledged_without_a_second_trace(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    body = dumps(PAYLOAD)
    assert _post(bridge, body, signed_headers(body)).status_code == 202
    again = _post(bridge, body, signed_headers(body))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    otlp_sink.wait_for_spans(10)
    time.sleep(0.3)
    assert len(otlp_sink.spans()) == 10


def test_app_name_comes_from_the_registration_when_the_payload_has_none(
    bridge: BridgeServer, otlp_sink: OtlpSink
) -> None:
    payload = {k: v for k, v in PAYLOAD.items() if k != "app_name"}
    body = dumps(payload)
    assert _post(bridge, body, signed_headers(body)).status_code == 202
    root = next(s for s in otlp_sink.wait_for_spans(10) if s.parent_span_id is None)
    assert root.name == "invoke_workflow Support Bot"


def _case(name: str) -> tuple[int, str, bytes, dict[str, str]]:
    body = dumps(PAYLOAD)
    good = signed_headers(body)
    if name == "wrong_secret":
        return 401, "invalid_signature", body, signed_headers(body, secret="whsec_someone_else_entirely_0000")
    if name == "old_timestamp":
        return 401, "signature_expired", body, signed_headers(body, timestamp=int(time.time()) - 301)
    if name == "future_timestamp":  # 302: int() floors, so +301 can arrive 300.0 s ahead, inside the tolerance
        return 401, "signature_expired", body, signed_headers(body, timestamp=int(time.time()) + 302)
    if name == "other_apps_secret":  # a real, registered secret, of another app
        return 401, "invalid_signature", body, signed_headers(body, secret=OTHER_APP_SECRET)
    if name == "signature_of_another_body":
        other = signed_headers(dumps({**PAYLOAD, "app_name": "Someone else's run"}))
        return 401, "invalid_signature", body, {**good, "X-Pisama-Signature": other["X-Pisama-Signature"]}
    if name == "uppercase_hex":
        prefix, _, digest = good["X-Pisama-Signature"].partition("=")
        return 401, "invalid_signature", body, {**good, "X-Pisama-Signature": f"{prefix}={digest.upper()}"}
    if name == "sha1_prefix":
        digest = good["X-Pisama-Signature"].partition("=")[2]
        return 401, "invalid_signature", body, {**good, "X-Pisama-Signature": f"sha1={digest}"}
    if name == "body_changed_by_one_byte":
        return 401, "invalid_signature", body.replace(b"Trip", b"Trap"), good
    if name == "missing_signature":
        return 401, "invalid_signature", body, {k: v for k, v in good.items() if k != "X-Pisama-Signature"}
    if name == "missing_timestamp":
        return 401, "invalid_signature", body, {k: v for k, v in good.items() if k != "X-Pisama-Timestamp"}
    if name == "bad_api_key":
        return 401, "invalid_api_key", body, {**good, "X-Pisama-API-Key": "nope"}
    if name == "unknown_app":
        unregistered = dumps({**PAYLOAD, "app_id": "not-registered"})
        return 404, "unknown_app", unregistered, signed_headers(unregistered)
    if name == "malformed_json":
        broken = b'{"workflow_run_id": "x",, }'
        return 400, "malformed_json", broken, signed_headers(broken)
    if name == "nested_too_deeply":  # deeper than either JSON parser goes: refused, not a crash
        deep = dumps({**PAYLOAD, "inputs": {"x": "DEEP"}}).replace(b'"DEEP"', b"[" * 5000 + b"]" * 5000)
        return 400, "malformed_json", deep, signed_headers(deep)
    if name == "schema_error":
        bad = copy.deepcopy(PAYLOAD)
        bad["nodes"][1]["elapsed_time"] = "slow"
        raw = dumps(bad)
        return 422, "invalid_payload", raw, signed_headers(raw)
    if name == "missing_app_id":
        raw = dumps({k: v for k, v in PAYLOAD.items() if k != "app_id"})
        return 422, "invalid_payload", raw, signed_headers(raw)
    if name == "too_large":
        raw = dumps({**PAYLOAD, "padding": "x" * 200_001})
        return 413, "body_too_large", raw, signed_headers(raw)
    if name == "wrong_content_type":
        return 415, "unsupported_media_type", body, {**good, "Content-Type": "text/plain"}
    raise AssertionError(name)


CASES = ["wrong_secret", "other_apps_secret", "signature_of_another_body", "uppercase_hex", "sha1_prefix",
         "old_timestamp", "future_timestamp", "body_changed_by_one_byte", "missing_signature",
         "missing_timestamp", "bad_api_key", "unknown_app", "malformed_json", "nested_too_deeply", "schema_error",
         "missing_app_id", "too_large", "wrong_content_type"]  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_refusals(bridge: BridgeServer, otlp_sink: OtlpSink, name: str) -> None:
    status, error, body, headers = _case(name)
    response = _post(bridge, body, headers)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and response.json()["detail"]
    for secret in (API_KEY, "whsec_test_secret", OTHER_APP_SECRET):
        assert secret not in response.text
    assert otlp_sink.spans() == []


def test_error_details_name_the_field_and_position(bridge: BridgeServer) -> None:
    _, _, body, headers = _case("schema_error")
    assert _post(bridge, body, headers).json()["detail"] == "nodes.1.elapsed_time: Expected `float | null`, got `str`"
    _, _, body, headers = _case("malformed_json")
    assert "line 1, column 25 (position 24)" in _post(bridge, body, headers).json()["detail"]
    _, _, body, headers = _case("unknown_app")
    detail = _post(bridge, body, headers).json()["detail"]
    assert detail.startswith("app 'not-registered' is not registered: register") and "/api/v1/dify/apps" in detail
    (registration,) = [
        app
        for app in httpx.get(
            f"{bridge.base}/api/v1/dify/apps", headers={"Authorization": f"Bearer {bridge.token()}"}
        ).json()
        if app["app_id"] == APP_ID
    ]
    by_registration_id = dumps({**PAYLOAD, "app_id": registration["id"]})
    detail = _post(bridge, by_registration_id, signed_headers(by_registration_id)).json()["detail"]
    assert detail.endswith(f"that is a registration's id: name its app_id, {APP_ID!r}")


def test_replayed_nonce_is_refused(bridge: BridgeServer) -> None:
    body = dumps(PAYLOAD)
    headers = signed_headers(body)
    assert _post(bridge, body, headers).status_code == 202
    replay = _post(bridge, body, headers)
    assert replay.status_code == 409 and replay.json()["error"] == "replayed_request"


def test_accepted_runs_and_nonces_survive_a_restart(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    body = dumps(PAYLOAD)
    headers = signed_headers(body)
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as first:
        assert _post(first, body, headers).status_code == 202
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as second:
        assert _post(second, body, headers).json()["error"] == "replayed_request"
        assert _post(second, body, signed_headers(body)).json() == {
            "duplicate": True,
            "run_id": PAYLOAD["workflow_run_id"],
        }


def _recipe_code() -> Any:
    """The Code node of docs/getting-runs-in.md's in-Dify recipe, as a user pastes it."""
    doc = (Path(__file__).parents[2] / "docs" / "getting-runs-in.md").read_text()
    recipe = doc[doc.index("### Sent from inside a Dify workflow") :]
    block = recipe[recipe.index("```python\n") + len("```python\n") :]
    namespace: dict[str, Any] = {}
    exec(textwrap.dedent(block[: block.index("```")]), namespace)
    return namespace["main"]


def _recipe_request(signed: dict[str, str], content_type: str = "application/json") -> dict[str, str]:
    """The recipe's HTTP Request node headers, its templates filled in."""
    return {"Content-Type": content_type, "X-Pisama-API-Key": API_KEY, "X-Pisama-Timestamp": signed["timestamp"],
            "X-Pisama-Nonce": signed["nonce"], "X-Pisama-Signature": signed["signature"]}  # fmt: skip


def test_the_in_dify_recipe_with_a_raw_text_body_arrives(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    run_id, started = "4d0f3c8e-6f4e-4a43-9f0e-2b7a0c6f1d2e", int(time.time()) - 2
    signed = _recipe_code()(run_id, APP_ID, started, APP_SECRET, "It is sunny.")
    # Body type raw text: Dify sends the template's text as it is.
    response = _post(bridge, signed["body"].encode(), _recipe_request(signed))
    assert response.status_code == 202, response.text
    (root,) = otlp_sink.wait_for_spans(1)
    assert root.trace_id == run_id.replace("-", "") and root.name == "invoke_workflow Support Bot"
    assert json.loads(root.attributes["output.value"]) == {"answer": "It is sunny."}
    assert root.start_ns == started * 1_000_000_000 and root.end_ns > root.start_ns


def test_the_in_dify_recipe_fails_with_a_json_body_or_without_its_content_type(
    bridge: BridgeServer, otlp_sink: OtlpSink
) -> None:
    signed = _recipe_code()("run-recipe", APP_ID, int(time.time()), APP_SECRET, "x")
    # Body type JSON: Dify parses the text and its HTTP client encodes it again (compact, no ASCII escapes).
    reencoded = json.dumps(json.loads(signed["body"]), separators=(",", ":"), ensure_ascii=False).encode()
    refused = _post(bridge, reencoded, _recipe_request(signed))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_signature"
    # Raw text without the Content-Type header goes as text/plain.
    plain = _post(bridge, signed["body"].encode(), _recipe_request(signed, "text/plain"))
    assert plain.status_code == 415
    time.sleep(0.5)
    assert otlp_sink.spans() == []


def test_a_body_naming_another_app_than_the_signer_is_refused(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    """Issue 24.6: signed with app-other's secret (X-Dify-App-Id: app-other), the body claimed app-under-test."""
    body = dumps(PAYLOAD)
    headers = signed_headers(body, secret=OTHER_APP_SECRET, headers={"X-Dify-App-Id": "app-other"})
    response = _post(bridge, body, headers)
    assert response.status_code == 422, response.text
    assert response.json() == {
        "error": "app_mismatch",
        "detail": "app_id: the body says 'app-under-test', the request is signed for 'app-other'",
    }
    time.sleep(0.3)
    assert otlp_sink.spans() == []


def test_the_run_is_filed_under_the_signing_app_and_its_registered_name(
    bridge: BridgeServer, otlp_sink: OtlpSink
) -> None:
    payload = {k: v for k, v in PAYLOAD.items() if k != "app_id"}
    body = dumps(payload)
    headers = signed_headers(body, secret=OTHER_APP_SECRET, headers={"X-Dify-App-Id": "app-other"})
    assert _post(bridge, body, headers).status_code == 202
    root = next(s for s in otlp_sink.wait_for_spans(10) if s.parent_span_id is None)
    assert (root.resource["dify.app.id"], root.resource["dify.app.name"]) == ("app-other", "Other")
    metrics = httpx.get(f"{bridge.base}/metrics").text
    assert metric_sample(metrics, "dify_workflow_runs_total", dify_app_name="Other") == 1


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"status": "weird"},
         "status: 'weird' is not one of running, succeeded, failed, stopped, partial-succeeded, paused"),
        ({"nodes": [{"node_id": "n", "node_type": "llm", "status": "fine"}]},
         "nodes.0.status: 'fine' is not one of pending, running, succeeded, failed, exception, stopped, paused, retry"),
    ],
)  # fmt: skip
def test_an_unknown_status_is_refused(
    bridge: BridgeServer, otlp_sink: OtlpSink, change: dict[str, Any], detail: str
) -> None:
    """Issue 27.17: `status: "weird"` was taken (202) and became a trace that was neither error nor success."""
    body = dumps({**PAYLOAD, **change})
    response = _post(bridge, body, signed_headers(body))
    assert response.status_code == 422, response.text
    assert (response.json()["error"], response.json()["detail"]) == ("invalid_payload", detail)


@pytest.mark.parametrize("bad", ["run\x00id", "run\nid", "run\u202eid", "r" * 100_000])
def test_a_run_id_that_is_not_printable_or_too_long_is_refused_not_echoed(
    bridge: BridgeServer, otlp_sink: OtlpSink, bad: str
) -> None:
    body = dumps({**PAYLOAD, "workflow_run_id": bad})
    response = _post(bridge, body, signed_headers(body))
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["workflow_run_id"]
    assert "printable characters only" in response.text or "at most 128 characters" in response.text
    assert bad not in response.json()["detail"]


@pytest.mark.parametrize("bad", ["node\x00id", "node\u202eid", "n" * 129])
def test_node_execution_and_workflow_ids_are_held_to_the_run_id_s_rule(
    bridge: BridgeServer, otlp_sink: OtlpSink, bad: str
) -> None:
    nodes = copy.deepcopy(PAYLOAD["nodes"])
    nodes[0] = {**nodes[0], "node_id": bad, "execution_id": bad}
    body = dumps({**PAYLOAD, "workflow_id": bad, "nodes": nodes})
    response = _post(bridge, body, signed_headers(body))
    assert response.status_code == 422, response.text
    fields = [error["field"] for error in response.json()["errors"]]
    assert sorted(fields) == ["nodes.0.execution_id", "nodes.0.node_id", "workflow_id"]
    assert bad not in response.json()["detail"]


def test_every_invalid_field_is_named_with_its_path(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    """Only the first field at fault was named (msgspec stops there), where the management API names each."""
    nodes = [{"node_id": "n", "node_type": ["llm"], "title": 1}, {"node_type": "llm", "elapsed_time": "slow"}]
    body = dumps({**PAYLOAD, "total_tokens": "many", "nodes": nodes})
    response = _post(bridge, body, signed_headers(body))
    assert response.status_code == 422, response.text
    fields = [error["field"] for error in response.json()["errors"]]
    assert sorted(fields) == ["nodes.0.node_type", "nodes.1.elapsed_time", "nodes.1.node_id", "total_tokens"]
    assert all(field in response.json()["detail"] for field in fields)


def test_every_invalid_value_is_listed_with_its_field(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    """The checks after decoding (statuses, times) stopped at the first value at fault."""
    nodes = [{"node_id": "n", "node_type": "llm", "status": "done", "started_at": "yesterday"}]
    body = dumps({**PAYLOAD, "status": "ok", "finished_at": -5, "nodes": nodes})
    response = _post(bridge, body, signed_headers(body))
    assert response.status_code == 422, response.text
    fields = [error["field"] for error in response.json()["errors"]]
    assert sorted(fields) == ["finished_at", "nodes.0.started_at", "nodes.0.status", "status"]
    assert otlp_sink.spans() == []


def test_at_most_20_invalid_fields_are_listed(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    body = dumps({**PAYLOAD, "nodes": [{"node_id": "n"}] * 30})
    response = _post(bridge, body, signed_headers(body))
    assert response.status_code == 422, response.text
    assert len(response.json()["errors"]) == 20 and response.json()["detail"].endswith("; and 10 more errors")


@pytest.mark.parametrize("status", ["running", "succeeded", "failed", "stopped", "partial-succeeded", "paused"])
def test_every_status_of_dify_is_taken(bridge: BridgeServer, status: str) -> None:
    body = dumps({**PAYLOAD, "status": status, "workflow_run_id": f"run-{status}"})
    assert _post(bridge, body, signed_headers(body)).status_code == 202


def test_invalid_utf8_inside_a_string_is_a_400(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    """Issue 24.10: the strict decoder raised UnicodeDecodeError (a 500) before the signature was even checked."""
    body = dumps(PAYLOAD).replace(b"Trip Planner", b"Trip \xff\xfe Planner")
    response = _post(bridge, body, signed_headers(body))
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "malformed_json", "detail": "the body is not UTF-8"}


def test_a_utf16_body_is_refused_naming_its_encoding(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    """`json.loads` read a UTF-16 payload (202) where the stream receiver refused one: JSON is UTF-8 here too."""
    body = json.dumps(PAYLOAD).encode("utf-16")
    response = _post(bridge, body, signed_headers(body))
    assert response.status_code == 415, response.text
    detail = "the body reads as UTF-16; send it as UTF-8 (JSON between systems is UTF-8)"
    assert response.json() == {"error": "unsupported_charset", "detail": detail}


def test_a_body_that_is_no_object_is_refused_saying_so(bridge: BridgeServer) -> None:
    """An array was "app_id: Field required (in the body or X-Dify-App-Id)"."""
    body = dumps([PAYLOAD])
    response = _post(bridge, body, signed_headers(body))
    assert response.status_code == 422, response.text
    detail = "body: a JSON object (one whole run), got an array"
    assert response.json() == {"error": "invalid_payload", "detail": detail}
