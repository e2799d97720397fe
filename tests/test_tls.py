"""`server.tls`: HTTPS, and mTLS when a client CA is set — the real `serve` process, real handshakes."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx2 as httpx
import pytest

from bridge.config import ConfigError, parse_config
from tests.bridge_process import BridgeProcess
from tests.bridge_server import bridge_config_text
from tests.certificates import make_certificates
from tests.otlp_sink import OtlpSink


@pytest.fixture
def certs(tmp_path: Path) -> dict[str, Path]:
    return make_certificates(tmp_path)


def _config(tmp_path: Path, sink: OtlpSink, tls: str) -> Path:
    path = tmp_path / "bridge.yaml"
    path.write_text(bridge_config_text(tmp_path, sink.grpc_endpoint).replace("server:\n", f"server:\n  tls: {tls}\n"))
    return path


def _context(ca: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        context.load_cert_chain(str(cert), str(key))
    return context


def test_https_only(tmp_path: Path, otlp_sink: OtlpSink, certs: dict[str, Path],
                    processes: list[BridgeProcess]) -> None:  # fmt: skip
    tls = f"{{cert_file: '{certs['server_cert']}', key_file: '{certs['server_key']}'}}"
    bridge = BridgeProcess(_config(tmp_path, otlp_sink, tls), "https", verify=_context(certs["ca"]))
    processes.append(bridge.start())
    assert httpx.get(f"{bridge.base}/healthz", verify=_context(certs["ca"])).json() == {"status": "ok"}
    with pytest.raises(httpx.ConnectError):  # a client that does not trust the CA
        httpx.get(f"{bridge.base}/healthz", verify=_context(certs["other_ca"]))
    with pytest.raises(httpx.TransportError):  # plain HTTP to the HTTPS port
        httpx.get(f"http://127.0.0.1:{bridge.port}/healthz")


def test_mtls_asks_every_client_for_a_certificate_from_the_ca(
    tmp_path: Path, otlp_sink: OtlpSink, certs: dict[str, Path], processes: list[BridgeProcess]
) -> None:
    tls = (f"{{cert_file: '{certs['server_cert']}', key_file: '{certs['server_key']}',"
           f" client_ca_file: '{certs['ca']}'}}")  # fmt: skip
    with_cert = _context(certs["ca"], certs["client_cert"], certs["client_key"])
    bridge = BridgeProcess(_config(tmp_path, otlp_sink, tls), "https", verify=with_cert)
    processes.append(bridge.start())
    assert httpx.get(f"{bridge.base}/healthz", verify=with_cert).status_code == 200
    with pytest.raises(httpx.TransportError):  # no client certificate: the handshake fails
        httpx.get(f"{bridge.base}/healthz", verify=_context(certs["ca"]))


def test_missing_certificate_files_are_config_errors(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint).replace(
        "server:\n", "server:\n  tls: {cert_file: /nope/server.pem, key_file: /nope/server.key}\n"
    )
    with pytest.raises(ConfigError, match=r"server\.tls\.cert_file: .*/nope/server\.pem: no such file"):
        parse_config(text, "bridge.yaml")
