"""The outbound policy: where instance base URLs may lead (issue 24's open relay)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from bridge.config.errors import ConfigError
from bridge.config.loader import parse_config
from bridge.management.outbound import OutboundConfig, OutboundPolicy, OutboundRefused
from bridge.management.store import Store, load_fernet
from tests.bridge_server import BridgeServer, ThreadedServer, bridge_config_text
from tests.fake_dify import DIFY_KEY, FakeDify
from tests.otlp_sink import OtlpSink

STRICT = OutboundPolicy(OutboundConfig())


@pytest.fixture
def dify() -> Iterator[tuple[FakeDify, ThreadedServer]]:
    fake = FakeDify()
    with ThreadedServer(fake.app) as server:
        yield fake, server


@pytest.mark.parametrize(
    ("base_url", "reason"),
    [
        ("http://127.0.0.1:5001", "127.0.0.1 is a loopback address"),
        ("http://127.8.9.10", "loopback"),
        ("http://169.254.169.254/latest", "169.254.169.254 is a link-local address"),
        ("http://0.0.0.0:5001", "0.0.0.0 is a"),
        ("http://[::1]:5001", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]", "127.0.0.1 is a loopback address"),
        ("http://[2002:a9fe:a9fe::]", "169.254.169.254 is a link-local address"),  # 6to4
        ("http://[64:ff9b::a00:1]", "10.0.0.1 is a private address"),  # NAT64
        ("http://[fe80::1]", "link-local"),
        ("http://10.1.2.3", "10.1.2.3 is a private address"),
        ("http://192.168.0.1", "private"),
        ("http://172.16.5.4", "private"),
        ("http://100.64.0.1", "not a public address"),
        ("http://224.0.0.1", "multicast"),
        ("http://2130706433", "write the address as a dotted quad"),
        ("http://0x7f000001", "dotted quad"),
        ("http://0x7f.1", "dotted quad"),
        ("http://127.1", "dotted quad"),
        ("http://0177.0.0.1", "dotted quad"),
        ("http://dify.example.com/admin?x=", "query or fragment"),
        ("http://dify.example.com/admin#", "query or fragment"),
        ("http://user:pw@dify.example.com", "user name or password"),
        ("http://dify.example.com:99999", "invalid port"),
        ("http://dify%2eexample.com", "neither a host name"),
        ("ftp://dify.example.com", "http:// or https://"),
        ("http://[::1", "not a valid URL"),
        ("http://[dify.example.com]", "not a valid URL"),
        # urlsplit drops these unseen: found attacking the served bridge (registered, then a 502 on every call)
        ("http://dify.example.com/\r\nX: y", "spaces or control characters, got '\\r'"),
        ("http://dify.example.com:5001\t", "spaces or control characters, got '\\t'"),
        ("http://dify.example.com/a b", "spaces or control characters, got ' '"),
        ("http://dify.example.com/\u202e", "spaces or control characters, got '\\u202e'"),
    ],
)
def test_refused_base_urls(base_url: str, reason: str) -> None:
    with pytest.raises(OutboundRefused, match=re.escape(reason)):
        STRICT.check_base_url(base_url)


def test_public_addresses_names_and_allowed_networks_pass() -> None:
    assert STRICT.check_base_url("https://api.dify.ai/") == "https://api.dify.ai"
    assert STRICT.check_base_url("http://8.8.8.8:5001/dify") == "http://8.8.8.8:5001/dify"
    local = OutboundPolicy(OutboundConfig(allowed_networks=["127.0.0.1/32", "10.0.0.0/8"], allowed_hosts=["API"]))
    for base_url in ("http://127.0.0.1:5001", "http://10.9.8.7", "http://api:5001", "http://docker_api_1:5001"):
        local.check_base_url(base_url)
    with pytest.raises(OutboundRefused, match=re.escape("127.0.0.2 is a loopback")):
        local.check_base_url("http://127.0.0.2")


@pytest.mark.parametrize(
    ("path", "query"),
    [("/v1/x", ""), ("/v1/a%3Fb", "user=u"), ("/v1/%2e%2e/x", "")],
)
def test_joined_urls_stay_under_v1(path: str, query: str) -> None:
    url = STRICT.join("http://dify.example.com/base/", path, query)
    assert httpx.URL(url).path.startswith("/base/v1/")


@pytest.mark.parametrize("path", ["/../admin/v1/x", "/v1/../../admin", "@evil.example.com/v1/x"])
def test_a_join_leaving_v1_or_the_host_is_refused(path: str) -> None:
    with pytest.raises(OutboundRefused, match="leaves the instance's /v1/"):
        STRICT.join("http://dify.example.com", path)


def test_the_config_names_the_instance_it_refuses(tmp_path: Path) -> None:
    text = "server: {instances: [{name: a, base_url: 'https://ok.example'}, {name: b, base_url: 'http://[::1]'}]}\n"
    with pytest.raises(ConfigError, match=r'"instances"\[1\].base_url: ::1 is a loopback address'):
        parse_config(text, "bridge.yaml")
    with pytest.raises(ConfigError, match=r"allowed_networks.*\[0\].*'10.0.0.0/33' is not a CIDR"):
        parse_config("server: {outbound: {allowed_networks: [10.0.0.0/33]}}\n", "bridge.yaml")


def _strict_bridge(tmp_path: Path, otlp_sink: OtlpSink, dify_url: str) -> BridgeServer:
    """The test bridge without its allowance for 127.0.0.1 (the shipped default)."""
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, dify_url=dify_url, local_dify=False)
    return BridgeServer(parse_config(text, "test.yaml"))


def test_registering_an_inward_instance_is_refused(
    tmp_path: Path, otlp_sink: OtlpSink, dify: tuple[FakeDify, ThreadedServer]
) -> None:
    with _strict_bridge(tmp_path, otlp_sink, "https://dify.example.com") as bridge:
        headers = {"Authorization": f"Bearer {bridge.token()}"}
        for base_url, reason in [
            (dify[1].base, "127.0.0.1 is a loopback address"),
            ("http://169.254.169.254", "link-local"),
            ("http://2130706433", "dotted quad"),
            (f"{dify[1].base}/admin?x=", "query or fragment"),
            ("https://user:hunter2@dify.example.com", "user name or password"),
            ("http://[::1", "not a valid URL"),  # not a 500
            ("https://dify.example.com/\r\nX: y", "control characters"),  # was stored (201), then 502 on each call
        ]:
            answer = httpx.post(f"{bridge.base}/api/v1/dify/instances", headers=headers,
                                json={"name": "inward", "base_url": base_url})  # fmt: skip
            assert answer.status_code == 422 and answer.json()["error"] == "invalid_payload"
            assert answer.json()["detail"].startswith("base_url: ") and reason in answer.json()["detail"]
            assert "hunter2" not in answer.text
        assert [i["name"] for i in httpx.get(f"{bridge.base}/api/v1/dify/instances", headers=headers).json()] == [
            "local-dify"
        ]


def test_a_name_resolving_inward_is_refused_when_the_proxy_connects(
    tmp_path: Path, otlp_sink: OtlpSink, dify: tuple[FakeDify, ThreadedServer]
) -> None:
    fake, server = dify
    with _strict_bridge(tmp_path, otlp_sink, f"http://localhost:{server.port}") as bridge:
        answer = httpx.get(f"{bridge.base}/local-dify/v1/parameters", headers={"Authorization": DIFY_KEY})
        assert answer.status_code == 502 and answer.json()["error"] == "upstream_not_allowed"
        assert "localhost resolves to 127.0.0.1 is a loopback address" in answer.json()["detail"]
    assert fake.seen == []


def test_an_instance_stored_before_the_policy_is_refused_at_request_time(
    tmp_path: Path, otlp_sink: OtlpSink, dify: tuple[FakeDify, ThreadedServer]
) -> None:
    fake, server = dify
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, dify_url=server.base)
    config = parse_config(text, "test.yaml")
    store = Store(config.server.store, load_fernet(config.server))
    # What an older bridge let through.
    store.add_instance("old", f"{server.base}/admin?x=", None)
    store.add_instance("pw", server.base.replace("http://", "http://admin:hunter2@"), None)
    store.close()
    with BridgeServer(config) as bridge:
        answer = httpx.get(f"{bridge.base}/old/v1/parameters", headers={"Authorization": DIFY_KEY})
        assert answer.status_code == 502 and "query or fragment" in answer.json()["detail"]
        answer = httpx.get(f"{bridge.base}/pw/v1/parameters", headers={"Authorization": DIFY_KEY})
        assert answer.status_code == 502 and "user name or password" in answer.json()["detail"]
        listed = httpx.get(
            f"{bridge.base}/api/v1/dify/instances", headers={"Authorization": f"Bearer {bridge.token()}"}
        )
        assert "hunter2" not in listed.text and f"http://***@127.0.0.1:{server.port}" in listed.text
    assert fake.seen == []
