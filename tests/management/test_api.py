from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import jwt
import pytest

from bridge.management import store as store_module
from bridge.management.auth import key_id
from tests.bridge_server import (
    API_KEY,
    APP_ID,
    APP_SECRET,
    TOKEN_SECRET,
    BridgeServer,
    bridge_config,
    dumps,
    signed_headers,
)
from tests.otlp_sink import OtlpSink

OTHER_SECRET = "another-secret-of-enough-length-0123456789"


@pytest.fixture
def bridge(tmp_path: Path, otlp_sink: OtlpSink) -> Iterator[BridgeServer]:
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as server:
        yield server


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_token_exchange(bridge: BridgeServer) -> None:
    response = httpx.post(f"{bridge.base}/api/v1/auth/token", json={"api_key": API_KEY})
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 3600)
    claims = jwt.decode(body["access_token"], TOKEN_SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 3600 and API_KEY not in str(claims)
    refused = httpx.post(f"{bridge.base}/api/v1/auth/token", json={"api_key": "wrong"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_api_key"


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, "missing_token"),
        ({"Authorization": "Basic abc"}, "missing_token"),
        ({"Authorization": "Bearer not-a-jwt"}, "invalid_token"),
        ({"Authorization": "Bearer " + jwt.encode({"sub": "x", "exp": 1}, TOKEN_SECRET)}, "token_expired"),
        (
            {
                "Authorization": "Bearer "
                + jwt.encode({"sub": "x", "exp": 2**40}, "another-secret-of-enough-length-0123456789")
            },
            "invalid_token",
        ),
    ],
)
def test_bearer_is_required(bridge: BridgeServer, headers: dict[str, str], error: str) -> None:
    for path in ("/api/v1/dify/instances", "/api/v1/dify/apps", "/openapi.json"):
        response = httpx.get(f"{bridge.base}{path}", headers=headers)
        assert response.status_code == 401 and response.json()["error"] == error
        assert response.headers["www-authenticate"] == "Bearer"
        if error == "missing_token":  # says where a token comes from
            assert "POST /api/v1/auth/token" in response.json()["detail"]


def test_two_different_bearer_tokens_are_refused_the_same_twice_is_taken(bridge: BridgeServer) -> None:
    token = bridge.token()
    for tokens in ([token, "not-a-jwt"], ["not-a-jwt", token]):
        headers = [("Authorization", f"Bearer {value}") for value in tokens]
        response = httpx.get(f"{bridge.base}/api/v1/dify/apps", headers=headers)
        assert response.status_code == 401, response.text
        detail = "the request carries 2 different credentials (Authorization: Bearer); send one"
        assert response.json() == {"error": "conflicting_credentials", "detail": detail}
    twice = [("Authorization", f"Bearer {token}")] * 2
    assert httpx.get(f"{bridge.base}/api/v1/dify/apps", headers=twice).status_code == 200


def test_register_instance_and_app_then_sign_with_the_new_secret(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    headers = _auth(bridge.token())
    prod = {"name": "prod", "base_url": "http://dify.internal", "api_key": "app-SECRETKEY"}
    created = httpx.post(f"{bridge.base}/api/v1/dify/instances", headers=headers, json=prod)
    assert created.status_code == 201 and "api_key" not in created.json() and created.json()["has_api_key"]
    instance_id = created.json()["id"]
    listed = httpx.get(f"{bridge.base}/api/v1/dify/instances", headers=headers)
    assert [i["name"] for i in listed.json()] == ["local-dify", "prod"]
    assert "app-SECRETKEY" not in listed.text
    app = httpx.post(f"{bridge.base}/api/v1/dify/apps", headers=headers,
                     json={"instance_id": instance_id, "app_id": "chatbot", "app_name": "Chat Bot"})  # fmt: skip
    assert app.status_code == 201
    secret = app.json()["webhook_secret"]
    assert secret.startswith("whsec_")
    apps = httpx.get(f"{bridge.base}/api/v1/dify/apps", headers=headers)
    assert [a["app_id"] for a in apps.json()] == ["app-under-test", "app-other", "chatbot"]
    assert secret not in apps.text and APP_SECRET not in apps.text

    payload = {"workflow_run_id": "run-new-app", "app_id": "chatbot", "status": "succeeded", "nodes": []}
    body = dumps(payload)
    assert httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body,
                      headers=signed_headers(body, secret=secret)).status_code == 202  # fmt: skip
    rotated = httpx.post(f"{bridge.base}/api/v1/dify/apps/{app.json()['id']}/rotate-secret", headers=headers)
    new_secret = rotated.json()["webhook_secret"]
    assert new_secret != secret
    body = dumps({**payload, "workflow_run_id": "run-2"})
    old = httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body, headers=signed_headers(body, secret=secret))
    assert old.status_code == 401
    new = httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body,
                     headers=signed_headers(body, secret=new_secret))  # fmt: skip
    assert new.status_code == 202
    root = next(s for s in otlp_sink.wait_for_spans(1) if s.parent_span_id is None)
    assert root.name == "invoke_workflow Chat Bot"


@pytest.mark.parametrize(
    ("path", "payload", "status", "fragment"),
    [
        ("/api/v1/dify/instances", {"name": "x", "base_url": "ftp://x"}, 422, "base_url: String should match"),
        # In words, not the pattern ("String should match pattern '^(?!api$)...'").
        ("/api/v1/dify/instances", {"name": "api", "base_url": "http://x"}, 422,
         "name: 'api' is the bridge's own path (/api/...): choose another name"),
        ("/api/v1/dify/instances", {"name": "a/b", "base_url": "http://x"}, 422,
         "name: a name is 1 to 100 characters: letters, digits, '.', '_' and '-', the first a letter or digit"),
        # `$` let a trailing newline through (`re.match`), into the proxy's path and the logs.
        ("/api/v1/dify/instances", {"name": "x\n", "base_url": "http://x"}, 422, "name: a name is 1 to 100"),
        ("/api/v1/dify/instances", {"name": "local-dify", "base_url": "http://x"}, 409, "already registered"),
        ("/api/v1/dify/instances", {"name": "x", "base_url": "http://x", "extra": 1}, 422,
         "extra: unknown key; known keys: name, base_url, api_key"),
        ("/api/v1/dify/apps", {"instance_id": "nope", "app_id": "a"}, 404, "no instance with id 'nope'"),
        ("/api/v1/dify/apps", {"app_id": "a"}, 422, "instance_id: Field required"),
        (
            "/api/v1/dify/apps",
            {"instance_id": "nope", "app_id": "a", "app_type": "workflw"},
            422,
            "app_type: Input should be 'workflow', 'advanced-chat', 'chat', 'agent-chat' or 'completion'",
        ),
        ("/api/v1/dify/apps/nope/rotate-secret", {}, 404, "no app registration"),
        # Taken before, and written as is to the audit log: a newline forged a line there and in logs.
        ("/api/v1/dify/apps", {"instance_id": "nope", "app_id": "a\n2026-01-01 INFO forged"}, 422,
         "app_id: an app id must be printable characters only, found U+000A at position 1"),
        # An app id names every run of the app (`dify.app.id`): held to the ids' rule, as payloads' ids are (an RTL
        # override, a zero-width space and 200 characters were registered, 201).
        ("/api/v1/dify/apps", {"instance_id": "nope", "app_id": "ab\u202ecd"}, 422,
         "app_id: an app id must be printable characters only, found U+202E at position 2"),
        ("/api/v1/dify/apps", {"instance_id": "nope", "app_id": "x\u200by"}, 422, "found U+200B at position 1"),
        ("/api/v1/dify/apps", {"instance_id": "nope", "app_id": "a" * 129}, 422,
         "app_id: an app id must be at most 128 characters (Dify's are 36-character UUIDs), got 129"),
        # The name goes into span names: an ESC there recoloured or hid text in terminals reading traces.
        ("/api/v1/dify/apps", {"instance_id": "nope", "app_id": "a", "app_name": "Bot\x1b[31m"}, 422,
         "app_name: control character '\\x1b' at 3: an app name is one line of text"),
        ("/api/v1/dify/apps", {"instance_id": "nope", "app_id": "a", "app_name": "Bot\x9b31m"}, 422,
         "app_name: control character '\\x9b' at 3: an app name is one line of text"),  # C1's CSI
        # An RTL override in a name showed "Bot" + the rest reversed in logs and UIs; U+2028 broke a log line.
        ("/api/v1/dify/apps", {"instance_id": "nope", "app_id": "a", "app_name": "Bot\u202egnp.exe"}, 422,
         "app_name: control character '\\u202e' at 3: an app name is one line of text"),
        ("/api/v1/dify/apps", {"instance_id": "nope", "app_id": "a", "app_name": "Bot\u2028forged"}, 422,
         "app_name: control character '\\u2028' at 3: an app name is one line of text"),
        ("/api/v1/dify/apps", {"instance_id": "nope", "app_id": "a", "app_name": "n" * 501}, 422,
         "app_name: String should have at most 500 characters"),
        ("/api/v1/dify/apps", b"", 400, "the body is empty"),
    ],
)  # fmt: skip
def test_registration_errors(bridge: BridgeServer, path: str, payload: object, status: int, fragment: str) -> None:
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {**_auth(bridge.token()), "Content-Type": "application/json"}
    response = httpx.post(f"{bridge.base}{path}", headers=headers, content=content)
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]


def test_every_invalid_field_is_named(bridge: BridgeServer) -> None:
    """Only the first error was said ("instance_id: Field required"): a client fixed one field a round trip."""
    payload = {"app_id": "", "app_type": "workflw", "colour": "red"}
    response = httpx.post(f"{bridge.base}/api/v1/dify/apps", headers=_auth(bridge.token()), json=payload)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [error["field"] for error in errors] == ["instance_id", "app_id", "app_type", "colour"]
    assert errors[3]["reason"].startswith("unknown key; known keys: instance_id, app_id, app_name")
    assert response.json()["detail"] == "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    # Named up to 20: 5,000 unknown keys (100 KB) were answered with 900 KB.
    many = httpx.post(f"{bridge.base}/api/v1/dify/apps", headers=_auth(bridge.token()),
                      json={f"key{i}": 1 for i in range(5000)})  # fmt: skip
    assert many.status_code == 422 and len(many.json()["errors"]) == 20 and len(many.content) < 5000
    assert many.json()["detail"].endswith("; and 4982 more errors")


def test_registrations_persist_and_secrets_are_encrypted_at_rest(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    config = bridge_config(tmp_path, otlp_sink.grpc_endpoint)
    kept = {"name": "kept", "base_url": "http://kept", "api_key": "app-PLAINTEXT"}
    with BridgeServer(config) as first:
        headers = _auth(first.token())
        instance = httpx.post(f"{first.base}/api/v1/dify/instances", headers=headers, json=kept).json()
        app = {"instance_id": instance["id"], "app_id": "k"}
        assert httpx.post(f"{first.base}/api/v1/dify/apps", headers=headers, json=app).status_code == 201
    with BridgeServer(config) as second:
        listed = httpx.get(f"{second.base}/api/v1/dify/instances", headers=headers).json()
        assert [i["name"] for i in listed] == ["local-dify", "kept"]  # the token still works: same token_secret
    with sqlite3.connect(tmp_path / "bridge.db") as db:
        rows = db.execute("SELECT * FROM instances").fetchall() + db.execute("SELECT * FROM apps").fetchall()
    db.close()
    raw = repr(rows).encode()
    assert b"app-PLAINTEXT" not in raw and APP_SECRET.encode() not in raw and b"http://kept" in raw


def test_openapi_covers_every_endpoint(bridge: BridgeServer) -> None:
    schema = httpx.get(f"{bridge.base}/openapi.json", headers=_auth(bridge.token())).json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/healthz", "/readyz", "/openapi.json", "/api/v1/auth/token", "/api/v1/dify/instances", "/api/v1/dify/apps",
        "/api/v1/dify/apps/{id}/rotate-secret", "/api/v1/dify/webhook", "/api/v1/dify/events", "/{instance}/v1/{path}",
        "/api/v1/dify/stream", "/metrics", "/api/v1/audit", "/api/v1/dify/instances/{id}", "/api/v1/dify/apps/{id}",
    }  # fmt: skip
    assert set(schema["paths"]["/api/v1/dify/apps"]) == {"get", "post"}
    assert "401" in schema["paths"]["/api/v1/dify/webhook"]["post"]["responses"]


def test_unknown_routes_and_methods_answer_json(bridge: BridgeServer) -> None:
    missing = httpx.get(f"{bridge.base}/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = httpx.delete(f"{bridge.base}/healthz")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"


def test_management_actions_are_audited_with_who_when_and_from_where(bridge: BridgeServer) -> None:
    headers = _auth(bridge.token())
    before = time.time()
    registration = {"name": "audited", "base_url": "http://dify.internal", "api_key": "app-KEY123"}
    instance = httpx.post(f"{bridge.base}/api/v1/dify/instances", headers=headers, json=registration)
    app = httpx.post(f"{bridge.base}/api/v1/dify/apps", headers=headers,
                     json={"instance_id": instance.json()["id"], "app_id": "audited-app"})  # fmt: skip
    rotated = httpx.post(f"{bridge.base}/api/v1/dify/apps/{app.json()['id']}/rotate-secret", headers=headers)
    assert rotated.status_code == 200
    log = httpx.get(f"{bridge.base}/api/v1/audit", headers=headers)
    assert log.status_code == 200
    entries = log.json()
    assert [e["action"] for e in entries] == ["app.rotate_secret", "app.register", "instance.register"]
    assert all(e["actor"] == key_id(API_KEY) and e["client"] == "127.0.0.1" and e["at"] >= before for e in entries)
    assert "audited-app" in entries[0]["target"] and "audited" in entries[2]["target"]
    for secret in (API_KEY, "app-KEY123", app.json()["webhook_secret"], rotated.json()["webhook_secret"]):
        assert secret not in log.text
    assert len(httpx.get(f"{bridge.base}/api/v1/audit?limit=1", headers=headers).json()) == 1
    assert httpx.get(f"{bridge.base}/api/v1/audit?limit=0", headers=headers).status_code == 422
    for limit in ("", "%D9%A1"):  # nothing; an Arabic-Indic 1, which `int` reads
        assert httpx.get(f"{bridge.base}/api/v1/audit?limit={limit}", headers=headers).status_code == 422
    # The last of two values was taken without a word.
    twice = httpx.get(f"{bridge.base}/api/v1/audit?limit=1&limit=2", headers=headers)
    assert twice.status_code == 400, twice.text
    detail = "limit: given 2 times ('1', '2'); send it once"
    assert twice.json() == {"error": "repeated_query_parameter", "detail": detail}
    assert len(httpx.get(f"{bridge.base}/api/v1/audit?limit=1&limit=1", headers=headers).json()) == 1
    assert httpx.get(f"{bridge.base}/api/v1/audit").status_code == 401


def test_an_unknown_query_parameter_is_refused_naming_the_known_ones(bridge: BridgeServer) -> None:
    # `?LIMIT=5` was ignored and answered with the default 100 entries.
    refused = httpx.get(f"{bridge.base}/api/v1/audit?LIMIT=5", headers=_auth(bridge.token()))
    assert refused.status_code == 400, refused.text
    assert refused.json() == {
        "error": "unknown_query_parameter",
        "detail": "unknown query parameter 'LIMIT'; known: limit",
    }


def test_errors_echo_at_most_200_characters_of_the_client_input(bridge: BridgeServer) -> None:
    headers = _auth(bridge.token())
    long = "x" * 5000
    for path, method in ((f"/api/v1/{long}", "GET"), (f"/api/v1/dify/apps/{long}", "DELETE"), (f"/{long}/v1/x", "GET")):
        answer = httpx.request(method, f"{bridge.base}{path}", headers=headers)
        assert answer.status_code == 404, answer.text
        assert "x" * 150 in answer.text and "…" in answer.json()["detail"] and "x" * 201 not in answer.text
    refused = httpx.get(f"{bridge.base}/api/v1/audit?{long}=1", headers=headers)
    assert refused.status_code == 400 and len(refused.json()["detail"]) < 250, refused.text


def test_deleting_an_app_ends_its_secret_and_then_its_instance_can_go(bridge: BridgeServer) -> None:
    headers = _auth(bridge.token())
    instance = httpx.post(f"{bridge.base}/api/v1/dify/instances", headers=headers,
                          json={"name": "temp", "base_url": "http://dify.internal"}).json()  # fmt: skip
    app = httpx.post(f"{bridge.base}/api/v1/dify/apps", headers=headers,
                     json={"instance_id": instance["id"], "app_id": "temp-app"}).json()  # fmt: skip
    blocked = httpx.delete(f"{bridge.base}/api/v1/dify/instances/{instance['id']}", headers=headers)
    assert blocked.status_code == 409 and blocked.json()["error"] == "has_apps"
    assert httpx.delete(f"{bridge.base}/api/v1/dify/apps/{app['id']}", headers=headers).json() == {"deleted": app["id"]}
    body = dumps({"workflow_run_id": "r-after-delete", "app_id": "temp-app", "status": "succeeded"})
    refused = httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body,
                         headers=signed_headers(body, secret=app["webhook_secret"]))  # fmt: skip
    assert refused.status_code == 404 and refused.json()["error"] == "unknown_app"
    gone = httpx.delete(f"{bridge.base}/api/v1/dify/instances/{instance['id']}", headers=headers)
    assert gone.status_code == 200
    assert "temp" not in [i["name"] for i in httpx.get(f"{bridge.base}/api/v1/dify/instances", headers=headers).json()]
    assert httpx.delete(f"{bridge.base}/api/v1/dify/apps/{app['id']}", headers=headers).status_code == 404
    declared = next(a for a in httpx.get(f"{bridge.base}/api/v1/dify/apps", headers=headers).json()
                    if a["origin"] == "config")  # fmt: skip
    kept = httpx.delete(f"{bridge.base}/api/v1/dify/apps/{declared['id']}", headers=headers)
    assert kept.status_code == 409 and kept.json()["error"] == "declared_in_config"
    actions = [e["action"] for e in httpx.get(f"{bridge.base}/api/v1/audit", headers=headers).json()]
    assert actions[:2] == ["instance.delete", "app.delete"]
    assert httpx.delete(f"{bridge.base}/api/v1/dify/apps/{app['id']}").status_code == 401


def test_registrations_past_the_most_kept_are_refused_until_one_is_deleted(
    bridge: BridgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = _auth(bridge.token())
    # The API may add one more of each than the config file declared.
    for name, listed in (("MAX_INSTANCES", "instances"), ("MAX_APPS", "apps")):
        held = len(httpx.get(f"{bridge.base}/api/v1/dify/{listed}", headers=headers).json())
        monkeypatch.setattr(store_module, name, held + 1)
    new = [httpx.post(f"{bridge.base}/api/v1/dify/instances", headers=headers,
                      json={"name": f"i{n}", "base_url": "http://dify.internal"}) for n in range(2)]  # fmt: skip
    assert [answer.status_code for answer in new] == [201, 409]
    assert new[1].json()["error"] == "too_many_registrations"
    assert "instances are registered, the most the bridge keeps: delete one first" in new[1].json()["detail"]
    instance_id = new[0].json()["id"]
    apps = [httpx.post(f"{bridge.base}/api/v1/dify/apps", headers=headers,
                       json={"instance_id": instance_id, "app_id": f"a{n}"}) for n in range(2)]  # fmt: skip
    assert [answer.status_code for answer in apps] == [201, 409]
    assert httpx.delete(f"{bridge.base}/api/v1/dify/apps/{apps[0].json()['id']}", headers=headers).status_code == 200
    again = httpx.post(
        f"{bridge.base}/api/v1/dify/apps", headers=headers, json={"instance_id": instance_id, "app_id": "a1"}
    )
    assert again.status_code == 201


def test_an_app_registers_with_its_own_key_and_a_chat_app_is_told_the_poller_cannot_see_it(
    bridge: BridgeServer,
) -> None:
    headers = _auth(bridge.token())
    instance_id = httpx.get(f"{bridge.base}/api/v1/dify/instances", headers=headers).json()[0]["id"]
    register = {"instance_id": instance_id, "api_key": "app-WORKFLOWKEY"}
    workflow = httpx.post(f"{bridge.base}/api/v1/dify/apps", headers=headers, json={**register, "app_id": "wf"})
    assert workflow.status_code == 201 and workflow.json()["has_api_key"] and "warning" not in workflow.json()
    chat = httpx.post(f"{bridge.base}/api/v1/dify/apps", headers=headers,
                      json={**register, "app_id": "chat", "app_type": "advanced-chat"})  # fmt: skip
    assert chat.status_code == 201 and "poller cannot see runs of advanced-chat apps" in chat.json()["warning"]
    listed = httpx.get(f"{bridge.base}/api/v1/dify/apps", headers=headers)
    assert {a["app_id"]: a["has_api_key"] for a in listed.json()} == {
        "app-under-test": False, "app-other": False, "wf": True, "chat": True}  # fmt: skip
    assert "app-WORKFLOWKEY" not in listed.text + workflow.text


def test_a_config_declared_app_s_secret_is_not_rotated_over_the_api(bridge: BridgeServer) -> None:
    """Found attacking the served bridge: the rotation was answered 200 with a new secret, and the next start put
    the file's (leaked) secret back, the new one then refused."""
    headers = _auth(bridge.token())
    (declared,) = [a for a in httpx.get(f"{bridge.base}/api/v1/dify/apps", headers=headers).json()
                   if a["app_id"] == APP_ID]  # fmt: skip
    rotated = httpx.post(f"{bridge.base}/api/v1/dify/apps/{declared['id']}/rotate-secret", headers=headers)
    assert rotated.status_code == 409, rotated.text
    assert rotated.json()["error"] == "declared_in_config" and "webhook_secret" not in rotated.json()
    body = dumps({"app_id": APP_ID})
    old = httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body, headers=signed_headers(body))
    assert old.status_code == 422, old.text  # past the signature, with the file's secret: nothing was rotated


UNSENDABLE_KEYS = ["app-SECRETKEY123\r\nX-Evil: 1", "app-SECRETKEY123\x00", "app-SÉCRETKEY123", "a" * 1001]


@pytest.mark.parametrize("path", ["/api/v1/dify/instances", "/api/v1/dify/apps"])
@pytest.mark.parametrize("key", UNSENDABLE_KEYS)
def test_a_dify_api_key_that_cannot_be_a_header_is_refused_without_echoing_it(
    bridge: BridgeServer, path: str, key: str
) -> None:
    """harden14: taken (201), then every poll failed in httpx, whose error, logged at each poll, held the key."""
    payload = {"name": "polled", "base_url": "https://dify.example", "api_key": key}
    if path.endswith("apps"):
        payload = {"instance_id": "nope", "app_id": "a", "api_key": key}
    response = httpx.post(f"{bridge.base}{path}", headers=_auth(bridge.token()), json=payload)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("api_key: a Dify API key is 1 to 1000 visible ASCII characters")
    assert "SECRETKEY" not in response.text and "aaaa" not in response.text
