"""Dify 1.14.1's own tracing export ("Arize Phoenix" setting) as a real Dify sent it, recorded byte for byte
with its headers beside the API client's stream of the same run (testdata/dify-1.14.1-otlp/README.md)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.export import recognize
from bridge.trace.otlp_spans import to_spans
from bridge.trace.spans import build_spans
from tests.runs import TESTS

# The reference recording (10 runs), and more runs of the same Dify: parallel iterations, error strategies,
# LLM, classifier, extractor and knowledge-retrieval apps, chatflow turns, stops, a workflow used as a tool.
RECORDINGS = (TESTS / "testdata" / "dify-1.14.1-otlp", TESTS / "testdata" / "dify-1.14.1-otlp-more")
_API_KEY_PLACEHOLDER = "<api key>"


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def spans(self) -> list[ReadableSpan]:
        return to_spans(ExportTraceServiceRequest.FromString(self.body)).spans


def _path(name: str, suffix: str, recordings: Sequence[Path] = RECORDINGS) -> Path:
    """Run `name`'s file with `suffix`, in whichever of `recordings` holds it (the first if none does)."""
    paths = [directory / f"{name}{suffix}" for directory in recordings]
    return next((path for path in paths if path.exists()), paths[0])


def recorded_requests(name: str, recordings: Sequence[Path] = RECORDINGS) -> list[RecordedRequest]:
    """Every OTLP request Dify sent for run `name`, in arrival order."""
    requests = []
    for line in _path(name, ".otlp.jsonl", recordings).read_text().splitlines():
        record = json.loads(line)
        headers = tuple((str(k), str(v)) for k, v in record["headers"])
        requests.append(RecordedRequest(record["path"], headers, base64.b64decode(record["body_base64"])))
    return requests


def recorded_spans(name: str, recordings: Sequence[Path] = RECORDINGS) -> list[ReadableSpan]:
    return [span for request in recorded_requests(name, recordings) for span in request.spans()]


def client_answer(name: str) -> Path:
    """What the API client got for the same run: the stream, or the blocking answer."""
    stream = _path(name, ".sse")
    return stream if stream.exists() else _path(name, ".json")


def exported_runs() -> list[str]:
    """The recorded runs Dify exported (a stopped run never is) that have the client's answer beside them."""
    names = (p.name.removesuffix(".otlp.jsonl") for d in RECORDINGS for p in d.glob("*.otlp.jsonl") if p.stat().st_size)
    return sorted(name for name in names if client_answer(name).exists())


def send_recorded(
    base_url: str, name: str, api_key: str, which: slice = slice(None), recordings: Sequence[Path] = RECORDINGS
) -> list[httpx.Response]:
    """Sends run `name`'s requests (those `which` selects) to `base_url` as Dify sent them: same path, headers (the
    API key put back in place of the recording's placeholder; Content-Length left to the client) and bytes, one at
    a time."""
    answers = []
    with httpx.Client(timeout=10) as client:
        for request in recorded_requests(name, recordings)[which]:
            headers = [
                (key, value.replace(_API_KEY_PLACEHOLDER, api_key))
                for key, value in request.headers
                if key.lower() not in ("content-length", "host")
            ]
            answers.append(client.post(f"{base_url}{request.path}", content=request.body, headers=headers))
    return answers


def rebuilt_spans(name: str, recordings: Sequence[Path] = RECORDINGS) -> list[ReadableSpan]:
    """The trace the bridge builds from run `name`'s recorded export."""
    recognized = recognize(recorded_spans(name, recordings), "otlp")
    assert recognized is not None, name
    return build_spans(recognized.run)
