"""`otlphttp`: OTLP/HTTP protobuf, configured with the Collector's keys; sends queued requests as they are."""

from __future__ import annotations

import gzip
import ssl
import time
import zlib
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Literal

import httpx2 as httpx
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from pydantic import BaseModel, ConfigDict, Field

from bridge.config.durations import Duration
from bridge.exporters import DELIVERED, Deadline, SendResult, otlp_env
from bridge.exporters.tls import TLSConfig
from bridge.queue.retry import RetryConfig

TYPE = "otlphttp"
# The OTLP specification's retryable statuses, plus 408 (a timeout on the server's side).
_RETRYABLE = frozenset({408, 429, 502, 503, 504})
_COMPRESS: dict[str, Callable[[bytes], bytes]] = {"gzip": gzip.compress, "deflate": zlib.compress}
# An answer that is not HTTP/1.1 usually comes from a gRPC port (4317): the parser's words alone do not say so.
_NOT_HTTP_HINT = (
    " (not an HTTP/1.1 server: a gRPC port such as 4317? `otlphttp` speaks OTLP/HTTP, 4318; use `otlp` for gRPC)"
)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Base URL; `/v1/traces` is appended as the Collector does. None: OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT.
    endpoint: str | None = None
    # Full URL used as is, overriding `endpoint`.
    traces_endpoint: str | None = None
    # TLS settings as the Collector's `tls:` block.
    tls: TLSConfig = Field(default_factory=TLSConfig)
    # Extra HTTP headers on every export. Empty: OTEL_EXPORTER_OTLP_[TRACES_]HEADERS.
    headers: otlp_env.Headers = Field(default_factory=dict)
    # None: OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION, else none.
    compression: Literal["gzip", "deflate", "none"] | None = None
    # Per-request deadline. None: OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT (milliseconds), else 10s. A request that
    # times out doubles the next one's, up to 8 times this; any answer puts it back.
    timeout: Duration | None = None
    # Requests are cut below this size (the Collector's OTLP/HTTP receiver takes 20 MiB by default). A span larger
    # alone has its longest texts cut (named in `dify.bridge.cut_attributes`); dead-lettered if that is not enough.
    max_request_bytes: int = Field(default=4 * 1024 * 1024 - 64 * 1024, gt=1024)
    # Backoff between retries of a failed request (the Collector's `retry_on_failure`).
    retry_on_failure: RetryConfig = Field(default_factory=RetryConfig)


def traces_url(cfg: Config) -> str | None:
    if cfg.traces_endpoint:
        return cfg.traces_endpoint
    if cfg.endpoint:
        return cfg.endpoint.rstrip("/") + "/v1/traces"
    return None


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds or as an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _reason(response: httpx.Response) -> str:
    """The body's `google.rpc.Status` message when it is one, else the start of the body."""
    if response.headers.get("content-type", "").startswith("application/x-protobuf"):
        try:
            return str(status_pb2.Status.FromString(response.content).message)
        except Exception:  # any undecodable body falls back to its text
            pass
    return response.text[:300].strip()


class HttpSender:
    """One HTTP client (connection pool), reused; TLS and mTLS from the `tls` block."""

    def __init__(self, cfg: Config) -> None:
        self.url = traces_url(cfg) or otlp_env.http_traces_url()
        self._compression = cfg.compression or otlp_env.setting("COMPRESSION") or "none"
        ca = cfg.tls.ca_file or otlp_env.setting("CERTIFICATE")
        cert = cfg.tls.cert_file or otlp_env.setting("CLIENT_CERTIFICATE")
        key = cfg.tls.key_file or otlp_env.setting("CLIENT_KEY")
        verify: ssl.SSLContext | bool = True
        if ca or cert:
            verify = ssl.create_default_context(cafile=ca)
            if cert:
                verify.load_cert_chain(cert, key)
        headers = {"Content-Type": "application/x-protobuf", **otlp_env.headers(cfg.headers)}
        if self._compression in _COMPRESS:
            headers["Content-Encoding"] = self._compression
        self._deadline = Deadline(otlp_env.timeout(cfg.timeout))
        self._client = httpx.Client(headers=headers, verify=verify)
        self.max_request_bytes: int | None = cfg.max_request_bytes
        self.retry = cfg.retry_on_failure

    def send(self, payload: bytes) -> SendResult:
        body = _COMPRESS[self._compression](payload) if self._compression in _COMPRESS else payload
        try:
            response = self._client.post(self.url, content=body, timeout=self._deadline.seconds)
        except httpx.HTTPError as error:
            if isinstance(error, httpx.ReadTimeout):  # the body went: the backend may have taken it
                self._deadline.timed_out()
            hint = _NOT_HTTP_HINT if isinstance(error, httpx.RemoteProtocolError) else ""
            return SendResult(False, True, f"HTTP to {self.url}: {type(error).__name__}: {error}{hint}")
        self._deadline.answered()
        if response.is_success:
            try:
                partial = ExportTraceServiceResponse.FromString(response.content).partial_success
            except Exception:  # an empty or non-protobuf 2xx body is a plain success
                return DELIVERED
            if partial.rejected_spans or partial.error_message:
                return SendResult(True, reason=partial.error_message, rejected_spans=partial.rejected_spans)
            return DELIVERED
        retryable = response.status_code in _RETRYABLE
        reason = f"HTTP {response.status_code} from {self.url}: {_reason(response)}"
        return SendResult(False, retryable, reason, _retry_after(response.headers.get("retry-after")))

    def close(self) -> None:
        self._client.close()


def create(cfg: Config) -> HttpSender:
    """An OTLP/HTTP sender. No I/O until the first send."""
    return HttpSender(cfg)
