"""`otlp`: OTLP over gRPC, configured with the Collector's keys; sends queued requests as they are."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import grpc
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bridge.config.durations import Duration
from bridge.exporters import DELIVERED, Deadline, SendResult, otlp_env
from bridge.exporters.tls import TLSConfig
from bridge.queue.retry import RetryConfig

TYPE = "otlp"
_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
COMPRESSION = {"gzip": grpc.Compression.Gzip, "none": grpc.Compression.NoCompression}
# gRPC's words for a port that answered HTTP/1 (an OTLP/HTTP receiver, 4318): alone, they read as "backend down".
# What gRPC says for the likely mistakes, and the hint each gets.
_HINTS = (
    (
        "Failed parsing HTTP/2",
        " (not a gRPC server: an OTLP/HTTP port such as 4318? `otlp` speaks gRPC, 4317; use `otlphttp` for HTTP)",
    ),
    (
        "WRONG_VERSION_NUMBER",  # TLS to a plaintext port: Jaeger's and the Collector's 4317 are plaintext
        " (TLS to a plaintext port: an endpoint without a scheme means TLS; write http://host:port, or set"
        " `tls: {insecure: true}`)",
    ),
)
# The OTLP specification's retryable codes. RESOURCE_EXHAUSTED only with RetryInfo (below): without it,
# it usually means "message too large", which no retry cures.
_RETRYABLE = frozenset(
    {grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED,
     grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS}
)  # fmt: skip


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # host:port (or http[s]://host:port). None: OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, else localhost:4317.
    endpoint: str | None = None
    # TLS settings as the Collector's `tls:` block.
    tls: TLSConfig = Field(default_factory=TLSConfig)
    # Extra gRPC metadata on every export. Empty: OTEL_EXPORTER_OTLP_[TRACES_]HEADERS.
    headers: otlp_env.Headers = Field(default_factory=dict)
    # None: OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION, else none.
    compression: Literal["gzip", "none"] | None = None
    # Per-request deadline. None: OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT (milliseconds), else 10s. A request that
    # times out doubles the next one's, up to 8 times this; any answer puts it back.
    timeout: Duration | None = None
    # Requests are cut below this size: gRPC servers refuse larger messages by default (4 MiB). A span larger
    # alone has its longest texts cut (named in `dify.bridge.cut_attributes`); dead-lettered if that is not enough.
    max_request_bytes: int = Field(default=4 * 1024 * 1024 - 64 * 1024, gt=1024)
    # Backoff between retries of a failed request (the Collector's `retry_on_failure`).
    retry_on_failure: RetryConfig = Field(default_factory=RetryConfig)

    @field_validator("endpoint")
    @classmethod
    def _host_port(cls, endpoint: str | None) -> str | None:
        """A gRPC target is host:port: a path (OTLP/HTTP's `/v1/traces`) or another scheme was dropped or
        failed at the first send, in words about connections."""
        if endpoint is None:
            return None
        parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
        if "://" in endpoint and parts.scheme not in ("http", "https"):
            raise ValueError(f"{endpoint!r}: the scheme is http:// (plaintext), https:// (TLS) or none (TLS)")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(
                f"{endpoint!r}: OTLP/gRPC takes host:port, no path ({parts.path or parts.query or parts.fragment!r}"
                " is for OTLP/HTTP: an `otlphttp` exporter)"
            )
        try:
            port = parts.port
        except ValueError:
            port = 0
        if not parts.hostname or port == 0:
            raise ValueError(f"{endpoint!r}: expected host:port, e.g. localhost:4317 (port 1-65535)")
        return endpoint

    @model_validator(mode="after")
    def _key_needs_cert(self) -> Config:
        if (self.tls.cert_file is None) != (self.tls.key_file is None):
            raise ValueError('"tls.cert_file" and "tls.key_file" must be set together')
        return self


def _read(path: str | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


def credentials(cfg: Config) -> grpc.ChannelCredentials:
    """TLS (and mTLS) credentials from the `tls` block, else the standard variables."""
    ca = cfg.tls.ca_file or otlp_env.setting("CERTIFICATE")
    cert = cfg.tls.cert_file or otlp_env.setting("CLIENT_CERTIFICATE")
    key = cfg.tls.key_file or otlp_env.setting("CLIENT_KEY")
    return grpc.ssl_channel_credentials(_read(ca), _read(key), _read(cert))


def endpoint_of(cfg: Config) -> tuple[str, bool]:
    """(host:port, insecure): a scheme decides; without one, `tls.insecure` or OTEL_EXPORTER_OTLP_INSECURE."""
    endpoint = cfg.endpoint or otlp_env.setting("ENDPOINT") or "http://localhost:4317"
    if "://" in endpoint:
        parts = urlsplit(endpoint)
        return parts.netloc, parts.scheme == "http"
    insecure = cfg.tls.insecure
    if insecure is None:
        insecure = (otlp_env.setting("INSECURE") or "").lower() == "true"
    return endpoint, insecure


def _retry_delay(error: grpc.Call) -> float | None:
    """The server's `google.rpc.RetryInfo.retry_delay`, carried in the status details trailer."""
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin" or not isinstance(value, bytes):
            continue
        for detail in status_pb2.Status.FromString(value).details:
            if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                info = error_details_pb2.RetryInfo()
                detail.Unpack(info)
                return float(info.retry_delay.seconds + info.retry_delay.nanos / 1e9)
    return None


class GrpcSender:
    """One channel, reused; the request bytes go on the wire without being parsed again."""

    def __init__(self, cfg: Config) -> None:
        target, insecure = endpoint_of(cfg)
        self._credentials = None if insecure else credentials(cfg)  # a missing file fails the start, not a send
        self._compression = COMPRESSION.get(cfg.compression or otlp_env.setting("COMPRESSION") or "none")
        self._channel: grpc.Channel | None = None
        self._export: grpc.UnaryUnaryMultiCallable | None = None
        self._metadata = [(k.lower(), v) for k, v in otlp_env.headers(cfg.headers).items()]
        self._deadline = Deadline(otlp_env.timeout(cfg.timeout))
        self.target = target
        self.max_request_bytes: int | None = cfg.max_request_bytes
        self.retry = cfg.retry_on_failure

    def _connect(self) -> grpc.UnaryUnaryMultiCallable:
        """The channel, made at the first send: gRPC starts its threads with it, and `replay` forks its
        pipeline workers after creating its senders (a fork copies no thread, and gRPC's state half-held by one)."""
        options = [("grpc.max_send_message_length", -1)]
        if self._credentials is None:
            self._channel = grpc.insecure_channel(self.target, options, self._compression)
        else:
            self._channel = grpc.secure_channel(self.target, self._credentials, options, self._compression)
        # No request serializer: the queued bytes already are the serialized request.
        self._export = self._channel.unary_unary(_METHOD, response_deserializer=ExportTraceServiceResponse.FromString)
        return self._export

    def send(self, payload: bytes) -> SendResult:
        export = self._export or self._connect()
        try:
            response = export(payload, timeout=self._deadline.seconds, metadata=self._metadata)
        except grpc.RpcError as error:
            if not isinstance(error, grpc.Call):
                return SendResult(False, True, f"gRPC to {self.target}: {error}")
            code, delay = error.code(), _retry_delay(error)
            if code is grpc.StatusCode.DEADLINE_EXCEEDED:
                self._deadline.timed_out()
            else:
                self._deadline.answered()
            retryable = code in _RETRYABLE or (code is grpc.StatusCode.RESOURCE_EXHAUSTED and delay is not None)
            details = error.details() or ""
            hint = next((hint for marker, hint in _HINTS if marker in details), "")
            return SendResult(False, retryable, f"gRPC {code.name} from {self.target}: {details}{hint}", delay)
        self._deadline.answered()
        partial = response.partial_success
        if partial.rejected_spans or partial.error_message:
            return SendResult(True, reason=partial.error_message, rejected_spans=partial.rejected_spans)
        return DELIVERED

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()


def create(cfg: Config) -> GrpcSender:
    """An OTLP/gRPC sender. No I/O until the first send."""
    return GrpcSender(cfg)
