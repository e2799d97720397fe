"""A real OTLP trace receiver on 127.0.0.1 (gRPC and HTTP), for export tests to decode what arrived."""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from google.protobuf import any_pb2, json_format
from google.protobuf.duration_pb2 import Duration
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

Request = trace_service_pb2.ExportTraceServiceRequest


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    events: list[tuple[str, int, dict[str, Any]]]
    status_code: int
    status_message: str
    resource: dict[str, Any]
    scope_name: str
    flags: int
    protocol: str
    links: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (trace id, span id, attributes)


def decode_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [decode_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: decode_value(kv.value) for kv in value.kvlist_value.values}
    return None if kind is None else getattr(value, kind)


def _attributes(items: Any) -> dict[str, Any]:
    return {kv.key: decode_value(kv.value) for kv in items}


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, sink: OtlpSink) -> None:
        self.sink = sink

    def Export(self, request: Request, context: grpc.ServicerContext) -> Any:
        verdict = self.sink._verdict(request)
        if verdict is not None:
            if verdict.retry_after is not None:
                delay = Duration(seconds=int(verdict.retry_after), nanos=int(verdict.retry_after % 1 * 1e9))
                detail = any_pb2.Any()
                detail.Pack(error_details_pb2.RetryInfo(retry_delay=delay))
                status = status_pb2.Status(code=verdict.grpc_code.value[0], message="injected", details=[detail])
                context.set_trailing_metadata([("grpc-status-details-bin", status.SerializeToString())])
            context.abort(verdict.grpc_code, "injected failure")
        self.sink._store(request, "grpc", dict(context.invocation_metadata()))
        return self.sink._response()


class _MetricsService(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, sink: OtlpSink) -> None:
        self.sink = sink

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self.sink._lock:
            self.sink.metric_requests.append(request)
        return metrics_service_pb2.ExportMetricsServiceResponse()


def _hex_ids_to_base64(obj: Any) -> Any:
    """OTLP/JSON writes trace and span ids in hex; protobuf's JSON mapping expects base64."""
    if isinstance(obj, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode() if k in ("traceId", "spanId", "parentSpanId") and v else
            _hex_ids_to_base64(v)
            for k, v in obj.items()
        }  # fmt: skip
    if isinstance(obj, list):
        return [_hex_ids_to_base64(v) for v in obj]
    return obj


@dataclass(frozen=True)
class Verdict:
    """How the sink answers a request it refuses."""

    grpc_code: Any = grpc.StatusCode.UNAVAILABLE
    http_status: int = 503
    retry_after: float | None = None  # RetryInfo (gRPC) / Retry-After (HTTP)


class OtlpSink:
    """Starts both servers (on free ports unless given); `spans()` decodes everything received so far.
    Faults on demand: refuse the next requests, refuse those holding given traces, answer slowly,
    or accept with a partial success."""

    def __init__(self, grpc_port: int = 0, http_port: int = 0) -> None:
        self._lock = threading.Lock()
        self.requests: list[tuple[str, Request, dict[str, str]]] = []
        self._span_count = 0  # in `requests`, counted as they arrive: cheap to poll, unlike `spans()`
        self.refused = 0  # requests answered with an error
        self._failures: list[Verdict] = []
        self._poisoned: dict[str, Verdict] = {}  # trace id (hex) → answer to any request holding it
        self._partial: list[int] = []  # rejected_spans of the next successful answers
        self.delay = 0.0  # seconds every request waits before its answer
        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        # The generated gRPC modules carry no annotations.
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(self), self._grpc)  # type: ignore[no-untyped-call]
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_MetricsService(self), self._grpc)  # type: ignore[no-untyped-call]
        self.metric_requests: list[Any] = []  # ExportMetricsServiceRequests, gRPC and HTTP
        grpc_port = self._grpc.add_insecure_port(f"127.0.0.1:{grpc_port}")
        self._http = ThreadingHTTPServer(("127.0.0.1", http_port), self._handler())
        self._http.daemon_threads = True
        self._http_thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self.grpc_endpoint = f"127.0.0.1:{grpc_port}"
        self.http_base = f"http://127.0.0.1:{self._http.server_address[1]}"
        self.http_endpoint = f"{self.http_base}/v1/traces"
        self.grpc_port, self.http_port = grpc_port, self._http.server_address[1]

    def start(self) -> OtlpSink:
        self._grpc.start()
        self._http_thread.start()
        return self

    def stop(self) -> None:
        self._grpc.stop(grace=None).wait()
        self._http.shutdown()
        self._http.server_close()
        self._http_thread.join()

    def __enter__(self) -> OtlpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(
        self,
        count: int,
        grpc_code: Any = grpc.StatusCode.UNAVAILABLE,
        http_status: int = 503,
        retry_after: float | None = None,
    ) -> None:
        with self._lock:
            self._failures.extend([Verdict(grpc_code, http_status, retry_after)] * count)

    def refuse_traces(self, trace_ids: set[str], grpc_code: Any = grpc.StatusCode.INVALID_ARGUMENT,
                      http_status: int = 400) -> None:  # fmt: skip
        """Every request holding a span of these traces is refused (a permanent error by default)."""
        with self._lock:
            self._poisoned.update(dict.fromkeys(trace_ids, Verdict(grpc_code, http_status)))

    def heal(self) -> None:
        """Answers every request normally again."""
        with self._lock:
            self._failures.clear()
            self._poisoned.clear()
            self.delay = 0.0

    def partial_next(self, rejected_spans: int) -> None:
        with self._lock:
            self._partial.append(rejected_spans)

    def _verdict(self, request: Request) -> Verdict | None:
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            verdict = self._failures.pop(0) if self._failures else None
            if verdict is None and self._poisoned:
                ids = {s.trace_id.hex() for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans}
                verdict = next((self._poisoned[t] for t in ids if t in self._poisoned), None)
            self.refused += verdict is not None
            return verdict

    def _response(self) -> trace_service_pb2.ExportTraceServiceResponse:
        with self._lock:
            rejected = self._partial.pop(0) if self._partial else 0
        response = trace_service_pb2.ExportTraceServiceResponse()
        if rejected:
            response.partial_success.rejected_spans = rejected
            response.partial_success.error_message = "injected partial success"
        return response

    def _store(self, request: Request, protocol: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((protocol, request, {k.lower(): v for k, v in headers.items()}))
            self._span_count += sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                if self.path not in ("/v1/traces", "/v1/metrics"):
                    self.send_error(404)
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                if self.path == "/v1/metrics":
                    with sink._lock:
                        sink.metric_requests.append(metrics_service_pb2.ExportMetricsServiceRequest.FromString(body))
                    reply = metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-protobuf")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                    return
                request = Request()
                content_type = self.headers.get("Content-Type", "")
                if content_type.startswith("application/json"):
                    json_format.ParseDict(_hex_ids_to_base64(json.loads(body)), request)
                else:
                    request.ParseFromString(body)
                verdict = sink._verdict(request)
                if verdict is not None:
                    self.send_response(verdict.http_status)
                    if verdict.retry_after is not None:
                        self.send_header("Retry-After", str(round(verdict.retry_after)))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                sink._store(request, "http", dict(self.headers.items()))
                reply = sink._response().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        return Handler

    def _iter_spans(self) -> Iterator[ReceivedSpan]:
        with self._lock:
            requests = list(self.requests)
        for protocol, request, _ in requests:
            for resource_spans in request.resource_spans:
                resource = _attributes(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        yield ReceivedSpan(
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex() or None,
                            name=span.name,
                            kind=span.kind,
                            start_ns=span.start_time_unix_nano,
                            end_ns=span.end_time_unix_nano,
                            attributes=_attributes(span.attributes),
                            events=[(e.name, e.time_unix_nano, _attributes(e.attributes)) for e in span.events],
                            links=[(k.trace_id.hex(), k.span_id.hex(), _attributes(k.attributes)) for k in span.links],
                            status_code=span.status.code,
                            status_message=span.status.message,
                            resource=resource,
                            scope_name=scope_spans.scope.name,
                            flags=span.flags,
                            protocol=protocol,
                        )

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self._span_count = 0

    def spans(self) -> list[ReceivedSpan]:
        return list(self._iter_spans())

    def span_count(self) -> int:
        """How many spans `spans()` would give, without decoding them."""
        with self._lock:
            return self._span_count

    def headers(self) -> list[dict[str, str]]:
        with self._lock:
            return [headers for _, _, headers in self.requests]

    def metric_points(self, name: str) -> list[tuple[dict[str, Any], float]]:
        """(attributes, value) of every data point of metric `name` received so far: sums and gauges give
        their value, histograms their sum."""
        with self._lock:
            requests = list(self.metric_requests)
        points = []
        for request in requests:
            for resource_metrics in request.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    for metric in scope_metrics.metrics:
                        if metric.name != name:
                            continue
                        kind = metric.WhichOneof("data")
                        for point in getattr(metric, kind).data_points:
                            value = point.sum if kind == "histogram" else getattr(point, point.WhichOneof("value"))
                            points.append((_attributes(point.attributes), float(value)))
        return points

    def wait_for_spans(self, count: int, timeout: float = 10.0) -> list[ReceivedSpan]:
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans()
            if len(spans) >= count:
                return spans
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} spans, received {len(spans)}: {[s.name for s in spans]}")
            time.sleep(0.02)
