"""`dify-otel-bridge serve` as a user starts it: what it says at start, and the starts it refuses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.cli.commands import main
from bridge.cli.startup_report import report
from bridge.config.loader import load_config
from tests.bridge_process import BridgeProcess, wait_until
from tests.bridge_server import free_port
from tests.otlp_sink import OtlpSink


def _config(tmp_path: Path, sink: OtlpSink, extra_receivers: str = "", server: str = "") -> Path:
    path = tmp_path / "bridge.yaml"
    path.write_text(
        f"""
receivers: {{webhook: {{}}, stream: {{}}, poller: {{interval: 45s}}{extra_receivers}}}
exporters:
  otlp: {{endpoint: "{sink.grpc_endpoint}", tls: {{insecure: true}}}}
  otlphttp/tempo: {{endpoint: "{sink.http_base}"}}
server: {{store: "{tmp_path / "state" / "bridge.db"}"{server}}}
service:
  queue: {{path: "{tmp_path / "state" / "queue.db"}"}}
  pipelines: {{traces: {{receivers: [webhook, stream, poller], exporters: [otlp, otlphttp/tempo]}}}}
"""
    )
    (tmp_path / "state").mkdir(exist_ok=True)
    return path


def _serve(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`serve` in a child process that is expected to stop by itself."""
    command = [sys.executable, "-m", "bridge.cli", "serve", "--config", str(config), *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )


def test_serve_says_where_runs_come_in_and_where_they_go(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    bridge = BridgeProcess(_config(tmp_path, otlp_sink)).start()
    try:
        lines = bridge.log.read_text().splitlines()
    finally:
        bridge.stop()
    state = tmp_path / "state"
    assert lines[: lines.index(next(line for line in lines if line.startswith("warning:"))) + 1] == [
        f"config: {bridge.config}",
        f"listening on http://127.0.0.1:{bridge.port}",
        "  receiver webhook: POST /api/v1/dify/webhook",
        "  receiver stream: POST /api/v1/dify/events",
        "  receiver poller: polls every registered instance with an API key every 45s",
        f"  exporter otlp: OTLP/gRPC to http://{otlp_sink.grpc_endpoint}",
        f"  exporter otlphttp/tempo: OTLP/HTTP to {otlp_sink.http_base}/v1/traces",
        f"queue file: {state / 'queue.db'}",
        f"store: {state / 'bridge.db'}",
        "warning: no API key (server.api_keys; the embedded default reads BRIDGE_API_KEY): the management API,"
        " receiver webhook, receiver stream refuse every request",
    ]


def test_serve_with_an_api_key_gives_no_warning(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    bridge = BridgeProcess(_config(tmp_path, otlp_sink, server=', api_keys: ["0123456789abcdef-key"]')).start()
    try:
        log = bridge.log.read_text()
    finally:
        bridge.stop()
    assert "listening on" in log and "warning:" not in log


def test_a_second_bridge_on_the_same_queue_file_or_store_does_not_start(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    config = _config(tmp_path, otlp_sink)
    first = BridgeProcess(config).start()
    try:
        pid = first.process.pid if first.process else None
        second = _serve(config, "--port", str(free_port()))
        assert second.returncode == 2
        store = tmp_path / "state" / "bridge.db"
        assert second.stderr.strip().splitlines()[-1] == (
            f"store error: {store}: in use by another process (pid {pid}): stop that bridge, or give this one"
            " its own server.store"
        )
        # Its own store, the same queue file: refused too, naming the queue file.
        other_store = config.read_text().replace(str(store), str(tmp_path / "other.db"))
        (tmp_path / "other.yaml").write_text(other_store)
        third = _serve(tmp_path / "other.yaml", "--port", str(free_port()))
        assert third.returncode == 2
        assert third.stderr.strip().splitlines()[-1] == (
            f"queue error: {tmp_path / 'state' / 'queue.db'}: in use by another process (pid {pid}): stop that"
            " bridge, or give this one its own service.queue.path"
        )
    finally:
        first.stop()
    # The first one gone (even killed), its files are free again.
    again = BridgeProcess(config).start()
    again.stop()


def test_a_port_in_use_stops_the_start_before_any_file_is_opened(
    tmp_path: Path, otlp_sink: OtlpSink, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, otlp_sink)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--config", str(config), "--port", str(port)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use (another bridge? choose another with"
        " --port or server.endpoint)"
    )
    assert list((tmp_path / "state").iterdir()) == []  # no queue file, no store, no key: nothing was opened


def test_a_grpc_port_in_use_is_one_line_not_a_traceback(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        grpc_port = taken.getsockname()[1]
        otlp = f", otlp: {{protocols: {{grpc: {{endpoint: '127.0.0.1:{grpc_port}'}}}}}}"
        result = _serve(_config(tmp_path, otlp_sink, extra_receivers=otlp), "--port", str(free_port()))
    assert result.returncode == 3, result.stderr  # uvicorn's status for a failed start
    assert "Traceback" not in result.stderr, result.stderr
    assert f"ERROR:    receiver otlp: cannot listen on 127.0.0.1:{grpc_port} for gRPC:" in result.stderr


def test_an_unusable_store_directory_is_one_line(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    config = _config(tmp_path, otlp_sink)
    (tmp_path / "not-a-directory").write_text("")
    store = tmp_path / "not-a-directory" / "bridge.db"
    config.write_text(config.read_text().replace(str(tmp_path / "state" / "bridge.db"), str(store)))
    result = _serve(config, "--port", str(free_port()))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"store error: {store}.key: cannot create or read the store's encryption key: Not a directory"
    ]


def _pipeline_workers(pid: int) -> list[int]:
    """The child processes of `pid` that run `spawn_main` (not multiprocessing's resource tracker)."""
    workers = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rpartition(")")[2].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if parent == pid and b"spawn_main" in command and b"resource_tracker" not in command:
            workers.append(int(stat.parent.name))
    return workers


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_ctrl_c_while_the_pipeline_worker_starts_prints_no_traceback(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    """Ctrl-C reaches the whole process group; a worker still importing its modules took it as a KeyboardInterrupt."""
    config = _config(tmp_path, otlp_sink)
    config.write_text(config.read_text().replace("service:\n", "service:\n  workers: 1\n"))
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "bridge.cli", "serve", "--config", str(config), "--port", str(free_port())]
    with log.open("w") as out:
        serve = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: bool(_pipeline_workers(serve.pid)), 30, "the pipeline worker to be started")
        time.sleep(0.3)  # into its imports (a process not yet running Python dies of SIGINT without a word)
        os.killpg(serve.pid, signal.SIGINT)  # as a terminal does
        assert serve.wait(30) == 130  # 128 + SIGINT, as uvicorn re-raises the signal it stopped for
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    text = log.read_text()
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text


def test_a_config_without_receivers_is_said_at_start() -> None:
    # config/examples/jaeger.yaml served: a bridge listening with no way in, and no word of it.
    config = load_config(str(Path(__file__).parents[2] / "config" / "examples" / "jaeger.yaml"), environ={})
    assert report(config, "http://127.0.0.1:8000", {})[-2:] == [
        "warning: no receiver (receivers, and service.pipelines.<name>.receivers): nothing can send runs to this"
        " bridge; the embedded default's are otlp, webhook, stream, proxy, poller (docs/getting-runs-in.md)",
        "warning: no API key (server.api_keys; the embedded default reads BRIDGE_API_KEY): the management API"
        " refuses every request",
    ]
