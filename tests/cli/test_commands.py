"""The CLI end to end: replay files through the real exporters into a real OTLP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import pytest

from bridge.cli import commands as cli
from bridge.cli.commands import main
from bridge.dify import replay
from bridge.dify.formats import InputError
from bridge.dify.model import WorkflowRun
from bridge.service import replay_workers
from bridge.service.replay_workers import ReplayWorkers
from tests.bridge_server import free_port
from tests.otlp_sink import OtlpSink, ReceivedSpan
from tests.runs import CAPTURES, EXAMPLES

SPAN_KIND_CLIENT = 3
STATUS_ERROR = 2


def _config(tmp_path: Path, sink: OtlpSink, extra: str = "") -> Path:
    path = tmp_path / "bridge.yaml"
    path.write_text(
        f"""
exporters:
  otlp: {{endpoint: "{sink.grpc_endpoint}", tls: {{insecure: true}}}}
  otlphttp: {{endpoint: "{sink.http_base}", compression: gzip, headers: {{x-tenant: dify}}}}
processors:
  batch: {{timeout: 50ms}}
{extra}
service:
  resource: {{service.name: dify-test, deployment.environment: ci}}
  pipelines:
    traces/grpc: {{processors: [batch], exporters: [otlp]}}
    traces/http: {{processors: [batch], exporters: [otlphttp]}}
"""
    )
    return path


@pytest.fixture(params=[False, True], ids=["one process", "forked workers"])
def forked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """`replay` in one process, or with its two forked workers (as for an input of `REPLAY_WORKERS_MIN_BYTES`)."""
    monkeypatch.setattr(cli, "REPLAY_WORKERS", 2)  # on a machine of one core: 0
    monkeypatch.setattr(cli, "REPLAY_WORKERS_MIN_BYTES", 0 if request.param else 1 << 62)
    return bool(request.param)


def _tree(spans: list[ReceivedSpan]) -> list[str]:
    children: dict[str | None, list[ReceivedSpan]] = {}
    for span in spans:
        children.setdefault(span.parent_span_id, []).append(span)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: (s.start_ns, s.name)):
            lines.append("  " * depth + span.name)
            walk(span.span_id, depth + 1)

    walk(None, 0)
    return lines


def test_replay_exports_one_trace_per_run_over_grpc_and_http(
    tmp_path: Path, otlp_sink: OtlpSink, capsys: pytest.CaptureFixture[str], forked: bool
) -> None:
    files = [CAPTURES / "b_iteration_ifelse_http.sse", CAPTURES / "d_http_retry_fail.sse"]
    code = main(["replay", "--config", str(_config(tmp_path, otlp_sink)), *map(str, files)])
    assert code == 0
    assert "replayed 2 runs (0 incomplete), 21 spans, 0 input errors" in capsys.readouterr().out
    received = otlp_sink.wait_for_spans(42)
    assert len(received) == 42  # each of the 2 pipelines got every span exactly once
    for protocol in ("grpc", "http"):
        spans = [s for s in received if s.protocol == protocol]
        by_trace: dict[str, list[ReceivedSpan]] = {}
        for span in spans:
            by_trace.setdefault(span.trace_id, []).append(span)
        assert set(by_trace) == {
            uuid.UUID("d8318146-ae39-49f1-b401-b92167ffe5c9").hex,
            uuid.UUID("56229425-1610-4062-ad01-2ca2c1b5cd2e").hex,
        }
        iteration = by_trace[uuid.UUID("d8318146-ae39-49f1-b401-b92167ffe5c9").hex]
        assert _tree(iteration)[:4] == [
            "invoke_workflow 7a520543-1306-43b7-9673-2fb4b27a2de2",
            "  start Start",
            "  iteration Iterate items",
            "    iteration[0]",
        ]
        assert len(_tree(iteration)) == 16
        by_id = {s.span_id: s for s in iteration}
        for span in iteration:
            assert span.flags == 0x100  # HAS_IS_REMOTE set, is_remote false: spans of our own making
            assert span.resource["service.name"] == "dify-test"
            assert span.resource["deployment.environment"] == "ci"
            assert span.resource["dify.app.id"] == "3e8dbad9-e5b2-4147-abaf-f8855cf7e471"
            assert span.resource["dify.source"] == "replay"  # README: every run is tagged with its way in
            assert span.scope_name == "dify-otel-bridge"
            if span.parent_span_id:
                parent = by_id[span.parent_span_id]
                assert parent.start_ns <= span.start_ns <= span.end_ns <= parent.end_ns
        failed = by_trace[uuid.UUID("56229425-1610-4062-ad01-2ca2c1b5cd2e").hex]
        (root,) = [s for s in failed if s.parent_span_id is None]
        assert root.status_code == STATUS_ERROR
        assert root.status_message == "Reached maximum retries for URL http://127.0.0.1:8765/fail"
        assert root.attributes["dify.run.status"] == "failed"
        assert [e[0] for e in root.events] == ["exception"]
        attempts = sorted(s.name for s in failed if "attempt" in s.name)
        assert attempts == ["http-request HTTP failing (attempt 1)", "http-request HTTP failing (attempt 2)"]
    assert any(h.get("x-tenant") == "dify" for h in otlp_sink.headers())


def test_replay_llm_attributes_arrive_intact(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    assert main(["replay", "--config", str(_config(tmp_path, otlp_sink)), str(CAPTURES / "a_llm_simple.sse")]) == 0
    spans = [s for s in otlp_sink.wait_for_spans(8) if s.protocol == "grpc"]
    (llm,) = [s for s in spans if s.name == "chat gpt-4o-mini"]
    assert llm.kind == SPAN_KIND_CLIENT
    assert llm.attributes["gen_ai.usage.input_tokens"] == 14
    assert llm.attributes["llm.cost.total"] == 0.0000081
    assert llm.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert llm.end_ns - llm.start_ns == 252_360_000
    # The default reduce processor ran: content is present but cut to 2 KiB.
    assert all(len(str(v).encode()) <= 2048 for k, v in llm.attributes.items() if k.startswith("llm.input_messages"))


@pytest.mark.parametrize("name", ["a_llm_simple.sse", "a_llm_simple.ndjson"])
def test_replay_reads_a_file_starting_with_a_byte_order_mark(tmp_path: Path, otlp_sink: OtlpSink, name: str) -> None:
    """A capture saved by a Windows editor (UTF-8 with a BOM) replays as the same file without it."""
    text = (CAPTURES / "a_llm_simple.sse").read_text()
    if name.endswith(".ndjson"):  # the same events, one JSON object a line
        text = "".join(line[len("data: ") :] + "\n" for line in text.splitlines() if line.startswith("data: "))
    (tmp_path / name).write_text("\ufeff" + text, encoding="utf-8")
    assert main(["replay", "--config", str(_config(tmp_path, otlp_sink)), str(tmp_path / name)]) == 0
    assert len([s for s in otlp_sink.wait_for_spans(8) if s.protocol == "grpc"]) == 4


def test_replay_reports_bad_records_and_still_exports_the_good_runs(
    tmp_path: Path, otlp_sink: OtlpSink, capsys: pytest.CaptureFixture[str], forked: bool
) -> None:
    good = (CAPTURES / "a_simple_http.sse").read_text()
    bad = tmp_path / "mixed.ndjson"
    events = [json.loads(line.removeprefix("data: ")) for line in good.splitlines() if line.startswith("data: ")]
    lines = [json.dumps(e) for e in events]
    lines.insert(2, "{not json")
    lines.insert(
        4,
        json.dumps(
            {"event": "node_finished", "workflow_run_id": "x", "data": {"node_id": "n", "elapsed_time": "slow"}}
        ),
    )
    bad.write_text("\n".join(lines) + "\n")
    code = main(["replay", "--config", str(_config(tmp_path, otlp_sink)), str(bad), str(tmp_path / "missing.sse")])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"error: {bad}:3: invalid JSON" in err
    assert f"error: {bad}:5: data.elapsed_time: expected a number, got 'slow'" in err
    assert "missing.sse: cannot read" in err
    assert "replayed 1 runs (0 incomplete), 4 spans, 3 input errors" in out
    assert len([s for s in otlp_sink.wait_for_spans(8) if s.protocol == "grpc"]) == 4


def test_validate(tmp_path: Path, otlp_sink: OtlpSink, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, otlp_sink)
    assert main(["validate", "--config", str(path)]) == 0
    assert "valid (2 pipeline(s): traces/grpc, traces/http)" in capsys.readouterr().out
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "exporters:\n  otlp:\n    tls: {insecure: maybe}\nservice:\n  pipelines: {traces: {exporters: [otlp]}}\n"
    )
    assert main(["validate", "--config", str(path), str(broken)]) == 2  # `broken` was left unchecked: "valid"
    assert f"config error: validate: two files, {path} and {broken}: name one" in capsys.readouterr().err
    assert main(["validate", "--config", str(broken)]) == 2
    assert f"config error: {broken}:3: exporters.otlp.tls.insecure: Input should be a valid boolean" in (
        capsys.readouterr().err
    )
    # Every error at once, one a line, in the file's order, each naming its line.
    broken.write_text("exporters:\n  otlp: {endpiont: x}\nservice:\n  pipelines: {traces: {exporters: [otlp, nope]}}\n")
    assert main(["validate", "--config", str(broken)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"config error: {broken}:2: exporters.otlp.endpiont: unknown key; did you mean 'endpoint'?",
        f"config error: {broken}:4: service.pipelines.traces.exporters.1: 'nope' is not defined in exporters (otlp)",
    ]


def test_replay_shows_progress_on_large_inputs(
    tmp_path: Path, otlp_sink: OtlpSink, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bridge.cli.commands.PROGRESS_MIN_BYTES", 1)
    monkeypatch.setattr("bridge.cli.commands.PROGRESS_INTERVAL_S", 0.0)
    text = (CAPTURES / "a_simple_http.sse").read_text()
    run_id = "7421d391-5c3c-46df-8d3e-fdb2de64e0fa"
    many = tmp_path / "many.sse"
    many.write_text("".join(text.replace(run_id, str(uuid.UUID(int=i))) for i in range(1, 51)))
    assert main(["replay", "--config", str(_config(tmp_path, otlp_sink)), str(many)]) == 0
    out, err = capsys.readouterr()
    assert "replayed 50 runs (0 incomplete), 200 spans, 0 input errors" in out
    assert "progress: 50 runs, 200 spans, 0 errors" in err
    assert len({s.trace_id for s in otlp_sink.wait_for_spans(400)}) == 50


def test_replay_to_a_backend_that_refuses_says_so_and_fails(
    tmp_path: Path, otlp_sink: OtlpSink, capsys: pytest.CaptureFixture[str], forked: bool
) -> None:
    otlp_sink.fail_next(100, http_status=400)  # a permanent error: the SDK does not retry it
    config = tmp_path / "c.yaml"
    config.write_text(
        f'exporters: {{otlphttp: {{endpoint: "{otlp_sink.http_base}"}}}}\n'
        "service: {pipelines: {traces: {exporters: [otlphttp]}}}\n"
    )
    assert main(["replay", "--config", str(config), str(CAPTURES / "a_simple_http.sse")]) == 1
    assert "failed to export: otlphttp 4 spans" in capsys.readouterr().out


PIPELINE = "pipelines: {traces: {exporters: [console]}}"


def test_serve_refuses_a_damaged_queue_file_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queue = tmp_path / "queue.db"
    queue.write_bytes(b"\x00garbage" * 512)
    config = tmp_path / "c.yaml"
    config.write_text(
        f"exporters: {{console: {{}}}}\nserver: {{store: ':memory:'}}\n"
        f"service: {{queue: {{path: '{queue}'}}, {PIPELINE}}}\n"
    )
    # A free port: the README's quick start leaves a bridge on 8000, and a port in use is checked first.
    assert main(["serve", "--config", str(config), "--port", str(free_port())]) == 2
    assert capsys.readouterr().err.strip() == (
        f"queue error: {queue}: cannot use the queue file: file is not a database"
    )


def _request(*run_ids: str) -> bytes:
    """An ExportTraceServiceRequest with one span of each run (the run id is the trace id)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    for run_id in run_ids:
        spans.add(trace_id=uuid.UUID(run_id).bytes, span_id=b"\x01" * 8, name="invoke_workflow")
    return request.SerializeToString()


def test_deadletter_list_and_retry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bridge.queue.storage import QueueStorage

    runs = [str(uuid.UUID(int=i)) for i in range(1, 6)]
    first, second = _request(runs[0]), _request(*runs[1:])
    queue = tmp_path / "queue.db"
    storage = QueueStorage(str(queue))
    storage.register(["otlp"])
    storage.append([("traces", 4, first), ("traces", 2, second)], now=0.0)()
    entries, _, _ = storage.pending("otlp", frozenset({"traces"}), 0, 100, None)
    storage.dead_letter("otlp", entries, "HTTP 400 from http://tempo/v1/traces: bad", now=86400.0, advance_to=2)
    storage.close()
    config = tmp_path / "c.yaml"
    config.write_text(f"exporters: {{console: {{}}}}\nservice: {{queue: {{path: '{queue}'}}, {PIPELINE}}}\n")
    assert main(["deadletter", "list", "--config", str(config)]) == 0
    out = capsys.readouterr()
    reason = "HTTP 400 from http://tempo/v1/traces: bad"
    assert out.out.splitlines() == [
        "id\texporter\tspans\tbytes\tfailed at\truns\treason",
        f"1\totlp\t4\t{len(first)}\t1970-01-02T00:00:00Z\t{runs[0]}\t{reason}",
        f"2\totlp\t2\t{len(second)}\t1970-01-02T00:00:00Z\t{runs[1]},{runs[2]},{runs[3]} (+1 more)\t{reason}",
    ]
    assert "2 dead letter(s)" in out.err
    # The queue file alone, with no config (and none of the variables a config names).
    assert main(["deadletter", "list", "--queue", str(queue)]) == 0
    assert capsys.readouterr().out.count("\n") == 3
    assert main(["deadletter", "retry", "--config", str(config)]) == 2
    assert "name the ids to retry, or --all" in capsys.readouterr().err
    assert main(["deadletter", "retry", "2", "7", "12345", "--config", str(config)]) == 1
    out = capsys.readouterr()
    assert out.out.startswith("1 dead letter(s) queued again")
    assert out.err.strip() == "deadletter retry: no dead letter 7, 12345 (see deadletter list)"
    # Only unknown ids: the error alone, no count on stdout that a script could read as success.
    assert main(["deadletter", "retry", "7", "--config", str(config)]) == 1
    out = capsys.readouterr()
    assert out.out == "" and out.err.strip() == "deadletter retry: no dead letter 7 (see deadletter list)"
    storage = QueueStorage(str(queue))
    assert [d.id for d in storage.dead_letters()] == [1]
    (requeued,), _, _ = storage.pending("otlp", frozenset(), 2, 100, None)  # addressed to otlp itself
    assert storage.payload([requeued]) == second
    storage.close()


def test_deadletter_elsewhere_names_the_missing_queue_file_and_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["deadletter", "list"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"deadletter: no queue file at {tmp_path / 'dify-otel-bridge-queue.db'}: run this where the bridge runs,"
        " or name its file with --queue (or its config with --config)"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_embedded_default_sends_to_otel_exporter_otlp_endpoint(
    otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://{otlp_sink.grpc_endpoint}")
    assert main(["replay", "--quiet", str(EXAMPLES / "workflow_full.sse")]) == 0
    assert len(otlp_sink.wait_for_spans(13)) == 13


def test_replay_endpoint_replaces_the_one_otlp_exporters(
    tmp_path: Path, otlp_sink: OtlpSink, capsys: pytest.CaptureFixture[str], forked: bool
) -> None:
    assert (
        main(
            [
                "replay",
                "--quiet",
                "--endpoint",
                f"http://{otlp_sink.grpc_endpoint}",
                str(EXAMPLES / "workflow_full.sse"),
            ]
        )
        == 0
    )
    assert len(otlp_sink.wait_for_spans(13)) == 13
    config = tmp_path / "c.yaml"
    config.write_text(
        'exporters: {otlphttp: {traces_endpoint: "http://127.0.0.1:9/elsewhere"}}\n'
        "service: {pipelines: {traces: {exporters: [otlphttp]}}}\n"
    )
    args = ["replay", "--quiet", "--config", str(config), "--endpoint", otlp_sink.http_base]
    assert main([*args, str(EXAMPLES / "workflow_full.ndjson")]) == 0
    assert len(otlp_sink.wait_for_spans(26)) == 26
    two = _config(tmp_path, otlp_sink)
    assert (
        main(["replay", "--config", str(two), "--endpoint", "http://127.0.0.1:9", str(EXAMPLES / "no_terminal.sse")])
        == 2
    )
    assert capsys.readouterr().err.strip() == (
        f"config error: --endpoint: {two} has 2 OTLP exporters (otlp, otlphttp), not one: set their endpoints in the"
        " config"
    )
    files_only = tmp_path / "files.yaml"
    files_only.write_text("exporters: {console: {}}\nservice: {pipelines: {traces: {exporters: [console]}}}\n")
    args = [
        "replay",
        "--config",
        str(files_only),
        "--endpoint",
        "http://127.0.0.1:9",
        str(EXAMPLES / "no_terminal.sse"),
    ]
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == (
        f"config error: --endpoint: {files_only} has no OTLP exporter (its exporters: console): --endpoint replaces"
        " an otlp or otlphttp exporter's endpoint; leave it out, or add such an exporter"
    )


def test_replay_with_nothing_listening_says_why_and_that_nothing_is_kept(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        endpoint = f"127.0.0.1:{closed.getsockname()[1]}"
    args = ["replay", "--quiet", "--timeout", "1", "--endpoint", f"http://{endpoint}"]
    assert main([*args, str(EXAMPLES / "workflow_full.sse")]) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"replayed 1 runs (0 incomplete), 13 spans, 0 input errors; failed to export: otlp 13 spans "
                          f"(gRPC UNAVAILABLE from {endpoint}: ")  # fmt: skip
    assert out.rstrip().endswith("; gave up waiting for the exporters after 1s")
    assert "replay keeps nothing (its queue is in memory)" in err
    assert "with no backend at all, a --config with the file or console exporter" in " ".join(err.split())
    warnings = [r.getMessage() for r in caplog.records if r.name == "bridge.queue.delivery"]
    assert warnings and all(w.endswith("(held in memory only, lost at exit)") for w in warnings)


def test_replay_names_where_a_file_stops_being_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A traceback-like codec message at line 0 before; PowerShell's `curl ... > run.sse` writes UTF-16.
    (tmp_path / "latin1.sse").write_bytes(b'data: {"event": "ping"}\n\ndata: {"x": "caf\xe9"}\n')
    (tmp_path / "utf16.sse").write_bytes('data: {"event": "ping"}\n'.encode("utf-16"))
    # Without a byte order mark, UTF-16 was "invalid JSON ... (column 2)"; UTF-32 with one was called UTF-16.
    (tmp_path / "utf16le.ndjson").write_bytes('{"event": "ping"}\n'.encode("utf-16-le"))
    (tmp_path / "utf32.ndjson").write_bytes('{"event": "ping"}\n'.encode("utf-32"))
    names = ("latin1.sse", "utf16.sse", "utf16le.ndjson", "utf32.ndjson", "missing.sse")
    files = [str(tmp_path / name) for name in names]
    assert main(["replay", "--quiet", "--endpoint", "http://127.0.0.1:9", *files]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: {files[0]}:3: not UTF-8: byte 0xe9 at offset 41",
        f"error: {files[1]}:1: the file is UTF-16 (PowerShell's `>` writes it): save it as UTF-8",
        f"error: {files[2]}:1: the file is UTF-16-LE (PowerShell's `>` writes it): save it as UTF-8",
        f"error: {files[3]}:1: the file is UTF-32: save it as UTF-8",
        f"error: {files[4]}: cannot read: No such file or directory",
    ]


def test_replay_refuses_a_file_linked_to_a_device_but_reads_a_fifo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found attacking: a `run.sse` linked to /dev/zero was read until memory ran out."""
    (tmp_path / "zero.sse").symlink_to("/dev/zero")
    fifo = tmp_path / "fifo.sse"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=("data: {}\n\n",))  # `replay <(zcat ...)` reads a pipe
    writer.start()
    files = [str(tmp_path / "zero.sse"), str(fifo)]
    assert main(["replay", "--quiet", "--endpoint", "http://127.0.0.1:9", *files]) == 1
    writer.join(10)
    assert capsys.readouterr().err.splitlines() == [
        f"error: {files[0]}: cannot read: a character device, not a file",
        f"error: {files[1]}:1: not a Dify event, run, webhook payload or log page",  # read, and judged
    ]


def test_replay_waits_30_seconds_for_delivery_by_default() -> None:
    # README: "within `--timeout`, 30 s by default".
    assert cli.build_parser().parse_args(["replay", "run.sse"]).timeout == 30.0


@pytest.mark.parametrize("timeout", ["-1", "nan", "inf", "soon"])
def test_replay_refuses_a_timeout_that_is_no_wait(timeout: str, capsys: pytest.CaptureFixture[str]) -> None:
    # `--timeout -1` exported nothing, then said it "gave up waiting for the exporters after -1s".
    with pytest.raises(SystemExit) as exited:
        main(["replay", "--timeout", timeout, "run.sse"])
    assert exited.value.code == 2
    assert f"argument --timeout: {timeout!r} is not a number of seconds (0 or more)" in capsys.readouterr().err


def test_replay_names_an_empty_file_and_each_bad_element_of_an_array(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], forked: bool
) -> None:
    (tmp_path / "empty.json").write_text("\n")
    (tmp_path / "numbers.json").write_text("[1,2,3]")
    (tmp_path / "events.json").write_text('[{"event": "node_started", "workflow_run_id": "r", "data": {}}, 2]')
    files = [str(tmp_path / name) for name in ("empty.json", "numbers.json", "events.json")]
    assert main(["replay", "--quiet", "--endpoint", "http://127.0.0.1:9", *files]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: {files[0]}: the file is empty: no Dify run data",
        f"error: {files[1]}:1: [0]: not a Dify event, run, webhook payload or log page",
        f"error: {files[1]}:1: [1]: not a Dify event, run, webhook payload or log page",
        f"error: {files[1]}:1: [2]: not a Dify event, run, webhook payload or log page",
        f"error: {files[2]}:1: [0].data.node_id: missing on a node_started event",
        f"error: {files[2]}:1: [1]: not a Dify event, run, webhook payload or log page",
    ]


@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_serve_refuses_a_port_out_of_range(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    # 99999 used to listen on 34463 (the socket takes it modulo 65536), nothing said.
    with pytest.raises(SystemExit):
        main(["serve", "--port", port])
    assert f"argument --port: {port!r} is not a port (1-65535)" in capsys.readouterr().err


def test_detect_help_says_what_it_prints(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["detect", "--help"])
    assert "one JSON line per finding: workflow_run_id, detector" in " ".join(capsys.readouterr().out.split())


def test_the_help_names_every_command_and_replays_way_without_a_backend(capsys: pytest.CaptureFixture[str]) -> None:
    # The top help's list left out config-reference; replay's help named only OTLP endpoints, none of which a
    # newcomer without docker has running.
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    listed = out.split("`dify-otel-bridge`: ", 1)[1].split(".", 1)[0]
    choices = re.search(r"\{([a-z,-]+)\}", out)
    assert choices is not None and listed.split(", ") == choices.group(1).split(",")
    with pytest.raises(SystemExit):
        main(["replay", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "config/examples/file-and-console.yaml" in said
    assert (Path(cli.__file__).parents[2] / "config/examples/file-and-console.yaml").is_file()


def test_an_otlp_json_trace_is_named_with_the_way_it_goes_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The `file` exporter's output, or a trace saved from a backend, handed to `detect`/`replay` by mistake.
    (tmp_path / "traces.jsonl").write_text('{"resourceSpans": [{"resource": {}, "scopeSpans": []}]}\n')
    assert main(["detect", str(tmp_path / "traces.jsonl")]) == 1
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'traces.jsonl'}:1: an OTLP/JSON trace, not Dify run data: POST it to a running "
        "bridge's /v1/traces (the otlp receiver)\n"
    )
    recorded = CAPTURES.parent / "dify-1.14.1-otlp" / "a_simple_http.otlp.jsonl"  # a recording the docs name
    assert main(["detect", str(recorded)]) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        f"error: {recorded}:1: a recorded request of Dify's tracing export, not Dify run data: send its body to a"
        " running bridge's /v1/traces (docs/getting-runs-in.md, section 1, shows how)"
    )


def test_a_run_id_with_a_line_break_is_named_by_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.ndjson"
    events.write_text(json.dumps({"event": "workflow_started", "workflow_run_id": "r\nforged", "data": {}}) + "\n")
    assert main(["detect", str(events)]) == 1
    assert f"error: {events}:1: workflow_run_id: must be printable characters only, found U+000A at position 1" in (
        capsys.readouterr().err
    )


def test_a_node_id_with_a_line_break_is_named_by_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.ndjson"
    started = {"event": "workflow_started", "workflow_run_id": "r", "data": {"id": "r"}}
    node = {"event": "node_started", "workflow_run_id": "r", "data": {"id": "e", "node_id": "n\nforged"}}
    events.write_text(json.dumps(started) + "\n" + json.dumps(node) + "\n")
    assert main(["replay", "--quiet", str(events)]) == 1
    assert f"error: {events}:2: data.node_id: must be printable characters only, found U+000A at position 1" in (
        capsys.readouterr().err
    )


def test_replay_imports_neither_the_server_nor_the_store() -> None:
    """`replay` with the embedded default config, in a fresh interpreter: the server (uvicorn), the management
    store and the tokens (cryptography) are not loaded, so none of their import time is spent before the first
    record."""
    import subprocess
    import sys

    with OtlpSink() as sink:
        script = (
            "import sys\nfrom bridge.cli.commands import main\n"
            f"code = main(['replay', '--quiet', {str(CAPTURES / 'a_llm_simple.sse')!r}])\n"
            "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'uvicorn', 'cryptography', 'jwt'}),"
            " sorted(m for m in sys.modules if m in ('bridge.http.server', 'bridge.management.store')),"
            # architecture.md: with the default config, replay loads neither httpx nor protobuf's JSON format
            " sorted(m for m in sys.modules if m.split('.')[0] == 'httpx2' or m == 'google.protobuf.json_format'))\n"
        )
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{sink.grpc_endpoint}", "PATH": "/usr/bin:/bin"}
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
        assert done.stdout.splitlines()[-1] == "0 [] [] []", done.stdout + done.stderr
        assert sink.span_count() == 4


def test_replay_of_a_broken_config_says_only_the_configs_errors(
    tmp_path: Path, otlp_sink: OtlpSink, capsys: pytest.CaptureFixture[str], forked: bool
) -> None:
    """Every error of the file, each naming its line, and exit code 2, whether the config is loaded here or by the
    forked workers while this process reads: what was read meanwhile (a bad record here) is not reported."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("exporters:\n  otlp: {endpiont: x}\nservice:\n  pipelines: {traces: {exporters: [otlp, nope]}}\n")
    bad = tmp_path / "bad.ndjson"
    bad.write_text("{not json\n" + (CAPTURES / "a_llm_simple.sse").read_text())
    assert main(["replay", "--config", str(broken), str(bad), str(CAPTURES / "b_iteration_ifelse_http.sse")]) == 2
    out, err = capsys.readouterr()
    assert (out, err.splitlines()) == ("", [
        f"config error: {broken}:2: exporters.otlp.endpiont: unknown key; did you mean 'endpoint'?",
        f"config error: {broken}:4: service.pipelines.traces.exporters.1: 'nope' is not defined in exporters (otlp)",
    ])  # fmt: skip
    assert otlp_sink.span_count() == 0


def test_replay_forks_its_workers_before_loading_the_config_the_exporters_or_the_processors() -> None:
    """With its workers (an input of `REPLAY_WORKERS_MIN_BYTES`), the replaying process reads the files with none
    of the config loader, pydantic, YAML, gRPC, protobuf, the OTel SDK, the processors, the exporters, the span
    builder, socket or ssl loaded, before or after the fork: the workers load them and export every span to a real
    receiver."""
    import subprocess
    import sys

    files = [str(CAPTURES / "a_llm_simple.sse"), str(CAPTURES / "b_iteration_ifelse_http.sse")]
    heavy = ("pydantic", "yaml", "grpc", "google.protobuf", "opentelemetry", "bridge.config.loader",
             "bridge.processors", "bridge.exporters", "bridge.trace", "bridge.service.pipeline", "ssl",
             "socket")  # fmt: skip
    with OtlpSink() as sink:
        script = (
            "import sys\nfrom bridge.cli import commands\n"
            "commands.REPLAY_WORKERS, commands.REPLAY_WORKERS_MIN_BYTES = 2, 0\n"
            f"code = commands.main(['replay', '--quiet', *{files!r}])\n"
            f"print(code, sorted(m for m in sys.modules if m.startswith({heavy!r})))\n"
        )
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{sink.grpc_endpoint}", "PATH": "/usr/bin:/bin"}
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
        assert done.stdout.splitlines() == ["replayed 2 runs (0 incomplete), 20 spans, 0 input errors", "0 []"], (
            done.stdout + done.stderr
        )
        assert len({span.span_id for span in sink.wait_for_spans(20)}) == sink.span_count() == 20


@pytest.mark.parametrize("large", [False, True])
def test_replay_forks_two_workers_for_a_large_input_only_whatever_service_workers_says(
    tmp_path: Path, otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    """Workers cost a fork and a pipe for every run: only an input large enough to pay for them
    (`REPLAY_WORKERS_MIN_BYTES`) gets them, as many as `REPLAY_WORKERS`, whatever `service.workers` says."""
    started: list[int] = []

    def recorded(count: int, *args: Any) -> ReplayWorkers:
        started.append(count)
        return ReplayWorkers(count, *args)

    monkeypatch.setattr(replay_workers, "ReplayWorkers", recorded)
    path = _config(tmp_path, otlp_sink)
    path.write_text(path.read_text().replace("\nservice:\n", "\nservice:\n  workers: 3\n"))
    assert "  workers: 3\n" in path.read_text()
    capture = CAPTURES / "a_llm_simple.sse"
    monkeypatch.setattr(cli, "REPLAY_WORKERS_MIN_BYTES", capture.stat().st_size if large else 1 << 30)
    monkeypatch.setattr(cli, "REPLAY_WORKERS", 2)  # on a machine of one core: 0
    assert main(["replay", "--config", str(path), str(capture)]) == 0
    assert started == ([2] if large else [])
    assert len([s for s in otlp_sink.wait_for_spans(8) if s.protocol == "grpc"]) == 4


@pytest.mark.parametrize("where", ["before", "after"])
def test_log_level_is_taken_before_or_after_the_command(
    where: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve --log-level debug` as well as `--log-level debug serve`; the OTLP/HTTP client's line per request
    (httpx2 at INFO) only at DEBUG."""
    levels: dict[str, int] = {}

    def basic_config(level: str, **_: Any) -> None:
        levels["root"] = logging.getLevelName(level)

    monkeypatch.setattr(logging, "basicConfig", basic_config)
    for level, httpx2 in (("debug", logging.NOTSET), ("warning", logging.WARNING)):
        logging.getLogger("httpx2").setLevel(logging.NOTSET)
        option = ["--log-level", level]
        argv = [*option, "config-reference"] if where == "before" else ["config-reference", *option]
        assert main(argv) == 0
        assert levels["root"] == logging.getLevelName(level.upper())
        assert logging.getLogger("httpx2").level == httpx2
    capsys.readouterr()
    with pytest.raises(SystemExit, match="2"):
        main(["config-reference", "--log-level", "loud"])
    assert "invalid choice: 'LOUD'" in capsys.readouterr().err


def test_replay_of_a_file_not_in_the_forced_format_says_so_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A JSON array forced as SSE used to get an error for each of its lines ("not an SSE field: '  {'", ...).
    array, sse = str(EXAMPLES / "workflow_full_array.json"), str(EXAMPLES / "workflow_full.sse")
    assert main(["replay", "--quiet", "--endpoint", "http://127.0.0.1:9", "--format", "sse", array]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: {array}:1: not SSE (not an SSE field: '['): the file reads as JSON; give --format json, or no --format"
    ]
    assert main(["replay", "--quiet", "--endpoint", "http://127.0.0.1:9", "--format", "json", sse]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: {sse}:1: not JSON (invalid JSON: Expecting value (column 1)): the file reads as SSE; give --format"
        " sse, or no --format"
    ]


def test_replay_names_a_dify_dsl_or_a_config_given_as_run_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Both used to get only "invalid JSON: Expecting value (column 1)".
    dsl = tmp_path / "app.yml"
    dsl.write_text("# exported\napp:\n  mode: workflow\n  name: demo\nkind: app\nversion: 0.3.0\nworkflow: {}\n")
    config = "config/examples/jaeger.yaml"
    assert main(["replay", "--quiet", "--endpoint", "http://127.0.0.1:9", str(dsl), config]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: {dsl}:1: a Dify app DSL (YAML), not run data: run the app and replay its run's stream (the body of"
        " `response_mode: streaming`), or send its runs to a running bridge (docs/getting-runs-in.md)",
        f"error: {config}:1: a YAML file, not Dify run data (a bridge config goes after --config)",
    ]


def test_replay_endpoint_with_an_otlp_http_path_is_refused_as_a_flag_error(
    capsys: pytest.CaptureFixture[str], forked: bool
) -> None:
    # An OTLP/HTTP URL for the embedded default's gRPC exporter: its path used to be dropped, the send to
    # fail with gRPC's words (a traceback once the endpoint was checked).
    args = ["replay", "--quiet", "--endpoint", "http://127.0.0.1:9/v1/traces", str(EXAMPLES / "workflow_full.sse")]
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == (
        "config error: --endpoint: 'http://127.0.0.1:9/v1/traces': OTLP/gRPC takes host:port, no path ('/v1/traces'"
        " is for OTLP/HTTP: an `otlphttp` exporter)"
    )


def test_a_config_file_given_without_config_is_taken_or_named(capsys: pytest.CaptureFixture[str]) -> None:
    # `validate FILE` said only "the following arguments are required: --config", `serve FILE` only
    # "unrecognized arguments" under the top command's usage.
    assert main(["validate", "config/examples/jaeger.yaml"]) == 0
    assert capsys.readouterr().out == "config/examples/jaeger.yaml: valid (1 pipeline(s): traces)\n"
    assert main(["validate"]) == 2
    assert capsys.readouterr().err == "config error: validate: name the file: validate --config FILE\n"
    with pytest.raises(SystemExit):
        main(["serve", "config/examples/jaeger.yaml"])
    assert capsys.readouterr().err.endswith(
        "error: unrecognized arguments: config/examples/jaeger.yaml (a config file goes after --config: --config"
        " config/examples/jaeger.yaml)\n"
    )


def test_replay_leaves_out_a_line_past_the_cap_naming_it_and_reads_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """harden13: a 300 MB line was held whole with its decoded copy (1.2 GB) before its error."""
    monkeypatch.setattr(replay, "LINE_MAX_BYTES", 3000)
    monkeypatch.setattr(replay, "_CHUNK_BYTES", 1000)  # the long line spans chunks, and so do the kept ones
    good = (EXAMPLES / "webhook_full.json").read_text().replace("\n", "")
    path = tmp_path / "runs.ndjson"
    path.write_text(f"{good}\n" + "x" * 20_000_000 + f"\n{good}\n")
    tracemalloc.start()
    items = list(replay.read_runs([str(path)]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    errors = [item for item in items if isinstance(item, InputError)]
    assert [(e.line, e.reason) for e in errors] == [(2, "the line is longer than 3000 bytes: left out")]
    assert len(items) == 3 and all(isinstance(item, WorkflowRun) for item in items[1:])  # the error comes first
    assert peak < 2_000_000  # the 20 MB line was never held
