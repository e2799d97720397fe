"""`server.tls`: HTTPS, and mTLS when a client CA is set — the real `serve` process, real handshakes."""

from __future__ import annotations

import ssl
from pathlib import Path

import grpc
import httpx2 as httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags

from bridge.config.errors import ConfigError
from bridge.config.loader import parse_config
from tests.bridge_process import BridgeProcess
from tests.bridge_server import API_KEY, BridgeServer, bridge_config_text, free_port
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
    answer = httpx.get(f"{bridge.base}/healthz", verify=_context(certs["ca"]))
    assert answer.json() == {"status": "ok"}
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
    assert "server" not in answer.headers  # the served bridge does not name its server software
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


def test_the_otlp_grpc_listener_with_client_certificates(tmp_path: Path, otlp_sink: OtlpSink,
                                                         certs: dict[str, Path]) -> None:  # fmt: skip
    port = free_port()
    tls = (f"{{cert_file: '{certs['server_cert']}', key_file: '{certs['server_key']}', "
           f"client_ca_file: '{certs['ca']}'}}")  # fmt: skip
    otlp = f'{{protocols: {{grpc: {{endpoint: "127.0.0.1:{port}", tls: {tls}}}}}}}'
    config = parse_config(bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, otlp=otlp), "test.yaml")
    spans = [ReadableSpan("probe", SpanContext(7, 9, False, TraceFlags(1)), start_time=1, end_time=2)]

    def export(*client: Path) -> str:
        credentials = grpc.ssl_channel_credentials(
            certs["ca"].read_bytes(), *(path.read_bytes() for path in client)
        )  # fmt: skip
        exporter = GrpcExporter(endpoint=f"127.0.0.1:{port}", credentials=credentials, headers={"api_key": API_KEY},
                                timeout=5)  # fmt: skip
        return exporter.export(spans).name

    with BridgeServer(config):
        assert export() == "FAILURE"  # no client certificate: the handshake fails
        assert export(certs["client_key"], certs["client_cert"]) == "SUCCESS"
        (received,) = otlp_sink.wait_for_spans(1)
    assert received.name == "probe"
