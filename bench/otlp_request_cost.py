"""Wall time of one large OTLP/HTTP request through the running bridge (uvicorn on 127.0.0.1), by size.

Each request is one protobuf `ExportTraceServiceRequest` of small spans (a name, two times, one attribute), posted
to a bridge whose `otlp` receiver takes it on a thread; timed from the post to the answer (journaled, not yet
exported). Printed per size: the best and median of `--rounds`, and the ratio of the largest size's median to the
smallest's over their span counts' ratio (1.0: linear). Spans of one trace (`--traces 1`) or one trace each.

    .venv/bin/python bench/otlp_request_cost.py [--spans 10000 100000] [--traces 1] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2 as httpx  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest  # noqa: E402

from bridge.config.loader import parse_config  # noqa: E402
from tests.bridge_server import API_KEY, BridgeServer, bridge_config_text  # noqa: E402
from tests.otlp_sink import OtlpSink  # noqa: E402


def request_of(spans: int, traces: int, first_trace: int) -> bytes:
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    for number in range(spans):
        span = scope_spans.spans.add(
            trace_id=(first_trace + number % traces).to_bytes(16, "big"),
            span_id=(number + 1).to_bytes(8, "big"),
            name="s",
        )
        span.start_time_unix_nano, span.end_time_unix_nano = 1_700_000_000_000_000_000, 1_700_000_000_000_001_000
        attribute = span.attributes.add(key="k")
        attribute.value.string_value = "v"
    return request.SerializeToString()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--spans", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--traces", type=int, default=1, help="traces per request (0: one a span)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    medians: dict[int, float] = {}
    with OtlpSink() as sink, tempfile.TemporaryDirectory() as tmp:
        # Traces held long, so no export runs beside the requests.
        text = bridge_config_text(Path(tmp), sink.grpc_endpoint, otlp="{protocols: {http: {}}}")
        text = text.replace("decision_wait: 300ms", "decision_wait: 600s").replace(
            "export_wait: 1s", "export_wait: 600s"
        )
        with BridgeServer(parse_config(text)) as server:
            headers = {"content-type": "application/x-protobuf", "authorization": f"Bearer {API_KEY}"}
            first_trace = 1
            for spans in args.spans:
                times = []
                for _ in range(args.rounds):
                    body = request_of(spans, args.traces or spans, first_trace)
                    first_trace += args.traces or spans
                    started = time.perf_counter()
                    answer = httpx.post(f"{server.base}/v1/traces", content=body, headers=headers, timeout=600)
                    times.append(time.perf_counter() - started)
                    assert answer.status_code == 200, answer.text
                medians[spans] = statistics.median(times)
                print(f"{spans:>8} spans: best {min(times):.2f} s, median {medians[spans]:.2f} s", flush=True)
    smallest, largest = min(medians), max(medians)
    ratio = (medians[largest] / medians[smallest]) / (largest / smallest)
    print(f"time ratio over span ratio ({largest} vs {smallest}): {ratio:.2f}")


if __name__ == "__main__":
    main()
