"""The README's "Five minutes" and management blocks, pasted into a shell in order, as a new user would; every
file the README and the docs name is there to open, and every dependency is in its table.

Three things are swapped, each for the sake of a test machine, never the order or the commands: the Jaeger
container is a test OTLP receiver on 127.0.0.1 (`OTEL_EXPORTER_OTLP_ENDPOINT` points at it), `make install` is
run as `make --dry-run --always-make install` (the test's own .venv is installed already, and `make test`'s dev
install marks the runtime one done; the dry run with --always-make shows what it does on a fresh machine),
and `serve` gets a free port and files in the test's directory instead of 8000 and the working directory.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import hmac
import importlib
import json
import os
import re
import signal
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx2 as httpx
import yaml
from cryptography.fernet import Fernet

import detectors
from bridge import GC_YOUNG_THRESHOLD, SWITCH_INTERVAL_S
from bridge.cli import commands
from bridge.cli.commands import build_parser
from bridge.config.durations import parse_duration
from bridge.config.loader import parse_config
from bridge.config.models import AssemblyConfig, ServiceConfig
from bridge.exporters import otlp
from bridge.http import live
from bridge.http import server as http_server
from bridge.management import settings
from bridge.management.rate_limit import RateLimitConfig
from bridge.management.settings import ServerConfig
from bridge.processors import reduce
from bridge.queue.config import QueueConfig
from bridge.receivers import otlp as otlp_receiver
from bridge.receivers import poller, proxy, signing
from bridge.receivers import stream as stream_receiver
from bridge.receivers.config import stream as stream_config
from bridge.receivers.config import webhook as webhook_config
from bridge.service import replay_workers
from bridge.service import service as service_module
from tests.bridge_process import wait_until
from tests.bridge_server import API_KEY, BridgeServer, bridge_config, free_port
from tests.cli.test_commands import _tree
from tests.otlp_sink import OtlpSink

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_opens_with_make_serve_and_make_test() -> None:
    opening = (ROOT / "README.md").read_text().split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in opening.splitlines()] == ["make serve", "make test"]


def _five_minutes_block() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Five minutes", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return block.group(1).splitlines()


def test_the_five_minutes_block_puts_a_run_into_the_backend(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    lines = _five_minutes_block()
    assert [line.split("#")[0].split()[:3] for line in lines] == [
        ["docker", "run", "-d"],
        ["make", "install"],
        ["export", "BRIDGE_API_KEY=$(openssl", "rand"],
        [".venv/bin/dify-otel-bridge", "serve", "&"],
        [".venv/bin/dify-otel-bridge", "replay", "examples/runs/workflow_full.sse"],
        [".venv/bin/dify-otel-bridge", "replay", "examples/runs/loop_stopped.sse"],
    ]
    port = free_port()
    dry_install = "make --dry-run --always-make install"
    script = [
        line.replace("make install", dry_install).replace(" serve &", f" serve --port {port} &")
        for line in lines
        if not line.startswith("docker ")
    ]
    script.append('echo "the key: $BRIDGE_API_KEY"')  # the block makes its own secret: said for the check below
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{otlp_sink.grpc_endpoint}",
        "BRIDGE_STORE": str(tmp_path / "bridge.db"),
        "BRIDGE_QUEUE": str(tmp_path / "queue.db"),
    }
    out_file, err_file = tmp_path / "out", tmp_path / "err"
    with out_file.open("w") as stdout, err_file.open("w") as stderr:
        shell = subprocess.Popen(
            ["bash", "-e", "-c", "\n".join(script)], cwd=ROOT, env=env, start_new_session=True,
            stdout=stdout, stderr=stderr, text=True,
        )  # fmt: skip
    try:
        assert shell.wait(timeout=120) == 0, err_file.read_text()
        out = out_file.read_text()
        # `make install` would install the bridge without the dev extras.
        assert "pip install --quiet -c requirements.lock -e .\n" in out and "[dev]" not in out
        assert "replayed 1 runs (0 incomplete), 13 spans, 0 input errors" in out
        spans = otlp_sink.wait_for_spans(13 + 9)
        assert _tree([s for s in spans if s.trace_id == spans[0].trace_id])[0] == (
            "invoke_workflow c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"
        )
        # The finding the text after the block tells a newcomer to look for, where it says it is.
        detections = [(s.name, e[2]["detection.detector"]) for s in spans for e in s.events if e[0] == "detection"]
        assert detections == [("loop Poll job", "dify_iteration_escape")]
        assert [s.attributes.get("detection.count") for s in spans if s.parent_span_id is None] == [None, 1]
        # The bridge started in the background is up, and took the secrets the block exported.
        wait_until(lambda: _healthy(port), 30, "the bridge started by the block")
        key = out.rpartition("the key: ")[2].strip()
        token = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token", json={"api_key": key})
        assert len(key) == 48 and token.status_code == 200
    finally:
        os.killpg(shell.pid, signal.SIGTERM)  # the block's `serve &` outlives the shell
        wait_until(lambda: not _healthy(port), 30, "the bridge started by the block to stop")


def test_the_no_backend_command_writes_the_trace_to_the_file_it_names(tmp_path: Path) -> None:
    # A newcomer without docker had no way shown to see a trace: the block's replay waited 30 s on a closed port.
    readme = (ROOT / "README.md").read_text().split("No docker, no backend yet?", 1)[1]
    command = re.search(r"`(\.venv/bin/dify-otel-bridge replay [^`]+)` writes the same trace to\s+`([\w.-]+)`", readme)
    assert command is not None
    for name in (".venv", "config", "examples"):  # the checkout, seen from a directory the test may write in
        (tmp_path / name).symlink_to(ROOT / name)
    env = {k: v for k, v in os.environ.items() if k != "TRACES_FILE"}
    done = subprocess.run(command.group(1).split(), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "replayed 1 runs (0 incomplete), 13 spans, 0 input errors" in done.stdout
    lines = (tmp_path / command.group(2)).read_text().splitlines()
    spans = [
        s for line in lines for r in json.loads(line)["resourceSpans"] for sc in r["scopeSpans"] for s in sc["spans"]
    ]
    assert len(spans) == 13 and '"invoke_workflow c3d4e5f6' in done.stderr


def test_the_management_block_runs_as_printed_and_leaves_a_secret_that_signs(tmp_path: Path) -> None:
    # It had a `<id>` to copy by hand and placeholder Dify keys (`app-...`) the poller then polled every 30 s.
    section = (ROOT / "README.md").read_text().split("## Management API and live view", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    lines = block.group(1).splitlines()
    assert lines[-1].startswith('curl -N "localhost:8000/api/v1/dify/stream?token=$TOKEN')  # streams until stopped
    with BridgeServer(bridge_config(tmp_path, "127.0.0.1:9")) as bridge:
        script = "\n".join(lines[:-1]).replace("localhost:8000", bridge.base) + '\necho "$TOKEN $SECRET"'
        env = {**os.environ, "BRIDGE_API_KEY": API_KEY}
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        token, secret = done.stdout.split()
        auth = {"Authorization": f"Bearer {token}"}
        apps = httpx.get(f"{bridge.base}/api/v1/dify/apps", headers=auth).json()
        instances = httpx.get(f"{bridge.base}/api/v1/dify/instances", headers=auth).json()
        (app,) = [a for a in apps if a["app_id"] == "my-app"]
        (instance,) = [i for i in instances if i["id"] == app["instance_id"]]
        assert instance["name"] == "my-dify" and not instance["has_api_key"] and not app["has_api_key"]
        body = json.dumps({"workflow_run_id": "run-of-my-app", "app_id": "my-app", "status": "succeeded", "nodes": []})
        nonce, timestamp = "readme-management-0001", str(int(time.time()))
        digest = hmac.new(secret.encode(), f"{timestamp}.{nonce}.{body}".encode(), hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Pisama-API-Key": API_KEY, "X-Pisama-Timestamp": timestamp,
                   "X-Pisama-Nonce": nonce, "X-Pisama-Signature": f"sha256={digest}"}  # fmt: skip
        assert httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body, headers=headers).status_code == 202


def test_the_dependency_table_names_every_dependency() -> None:
    # schemathesis and the type stubs were installed by `make test` but missing from the table.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    names = {re.split(r"[<>=~!;\[ ]", spec, maxsplit=1)[0] for spec in wanted}
    table = (ROOT / "README.md").read_text().split("## Dependencies", 1)[1].split("\n\n", 2)[1]
    listed = {word for row in table.splitlines() for word in re.findall(r"[\w.-]+", row.split("|")[1])}
    assert sorted(names - listed) == []


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


# A repository path in prose or a command: `examples/runs/*.sse`, `tests/http/test_live.py`, `config/examples/`.
_REPO_PATH = re.compile(r"(?<![\w/.$-])((?:bridge|tests|docs|examples|config|bench|detectors|\.ci)/[\w./*-]*)")


def _missing_paths(doc: Path) -> list[str]:
    text = doc.read_text()
    missing = []
    for match in _REPO_PATH.finditer(text):
        path = match.group(1).rstrip(".")
        # Relative to the repository or to the doc; a module named without `bridge/` and `.py` (architecture.md).
        candidates = (path, str(doc.parent.relative_to(ROOT) / path), f"bridge/{path}", f"bridge/{path}.py")
        if not any(glob.glob(candidate, root_dir=ROOT) for candidate in candidates):
            missing.append(f"{doc.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {path}")
    return missing


def test_every_file_the_readme_and_the_docs_name_exists() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").rglob("*.md"))]
    assert [missing for doc in docs for missing in _missing_paths(doc)] == []


def test_architecture_md_names_every_module_of_the_bridge() -> None:
    # Splits (normalize.py, export.py) and new modules left their rows behind: each module is named in its
    # folder's row, as `name.py` or `name`.
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    modules = sorted(p for p in (ROOT / "bridge").rglob("*.py") if not p.name.startswith("__"))
    unnamed = [
        str(module.relative_to(ROOT))
        for module in modules
        if f"`{module.stem}`" not in text and not re.search(rf"[`/(]{re.escape(module.name)}", text)
    ]
    assert unnamed == []
    # ... and the command module's row every subcommand (config-reference was left out).
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    cli_row = next(line for line in text.splitlines() if "`commands.py`" in line)
    assert [command for command in commands if command not in cli_row] == []


def test_no_detector_on_by_default_is_called_off() -> None:
    # README's Detections section and the hallucination setting's first words said "off by default" a session
    # after it shipped on.
    on = [name for name in detectors.BUILT_IN if importlib.import_module(f"detectors.{name}").Config().enabled]
    assert len(on) == len(detectors.BUILT_IN) == 12  # README: "Twelve failure detectors", "all twelve on by default"
    section = (ROOT / "README.md").read_text().split("## Detections", 1)[1].split("\n## ", 1)[0]
    assert "off by default" not in section
    reference = (ROOT / "docs" / "configuration.md").read_text()
    assert not re.search(r"^\| `enabled` \| boolean \| `true` \| Off by default", reference, re.MULTILINE)


def _yaml_block_after(heading: str, first_line: str) -> dict[str, Any]:
    section = (ROOT / "README.md").read_text().split(heading, 1)[1]
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", section, re.S) if b.startswith(first_line)]
    assert blocks, f"no yaml block starting {first_line!r} after {heading!r}"
    loaded: dict[str, Any] = yaml.safe_load(blocks[0])
    return loaded


def test_the_delivery_and_security_blocks_show_the_defaults() -> None:
    # The README's "Delivery guarantees" and "Securing the HTTP surface" blocks give numbers a user reads as
    # what they get without setting them (10,000 runs, 4 MiB requests, 1,000 requests/s, ...).
    delivery = _yaml_block_after("## Delivery guarantees", "service:")
    queue = delivery["service"]["queue"]
    assert QueueConfig.model_validate(queue) == QueueConfig(path=queue["path"])
    exporter = delivery["exporters"]["otlp"]
    assert otlp.Config.model_validate({"endpoint": "x", **exporter}) == otlp.Config(endpoint="x")
    security = _yaml_block_after("## Securing the HTTP surface", "server:")
    server = security["server"]
    assert RateLimitConfig.model_validate(server["rate_limit"]) == RateLimitConfig()
    defaults = ServerConfig()
    assert (parse_duration(server["header_timeout"]), parse_duration(server["body_timeout"])) == (
        defaults.header_timeout,
        defaults.body_timeout,
    )
    assert defaults.cors_allowed_origins == []  # "default: no CORS at all"
    assert proxy.Config.model_validate(security["receivers"]["proxy"]) == proxy.Config()


def _unstated_or_untrue(doc: str, claims: dict[str, bool]) -> list[str]:
    """The phrases (as the doc words them, line breaks aside) missing from `doc`, and those whose value is not the
    code's."""
    text = " ".join((ROOT / doc).read_text(encoding="utf-8").split())
    return [f"not in {doc}: {phrase}" for phrase in claims if phrase not in text] + [
        f"not the code's: {phrase}" for phrase, holds in claims.items() if not holds
    ]


def test_the_configs_architecture_md_says_have_pipeline_workers_have_them() -> None:
    left_out = ServiceConfig.model_fields["workers"].default
    workers = {
        path: (yaml.safe_load((ROOT / path).read_text()).get("service") or {}).get("workers", left_out)
        for path in ["bridge/config/default_config.yaml", *sorted(glob.glob("config/examples/*.yaml", root_dir=ROOT))]
    }
    assert workers == {
        "bridge/config/default_config.yaml": 1,
        "config/examples/file-and-console.yaml": 0,
        "config/examples/jaeger.yaml": 1,
        "config/examples/tempo-collector.yaml": 1,
    }
    assert "a config that leaves it out, `file-and-console.yaml` among them, gets 0" in " ".join(
        (ROOT / "docs" / "architecture.md").read_text().split()
    )


def test_every_attribute_traces_md_names_is_one_the_bridge_writes() -> None:
    # "Every attribute name below is defined once, in `bridge/trace/attributes.py`, but the detections'".
    doc = (ROOT / "docs" / "traces.md").read_text(encoding="utf-8")
    writers = "".join(
        (ROOT / path).read_text(encoding="utf-8")
        for path in ("bridge/trace/attributes.py", "bridge/processors/detectors.py")
    )
    names = set(re.findall(r"`([a-z_]+(?:\.[a-z_0-9]+)+)`", doc))
    names |= {
        f"{prefix}.{part}"
        for prefix, parts in re.findall(r"`([a-z_.]+)\.([a-z_]+(?:\|[a-z_]+)+)`", doc)
        for part in parts.split("|")
    }
    # Dify's own fields and config keys the doc names beside them, not attributes.
    not_attributes = {"execution_metadata.iteration_index", "outputs.error_message", "sys.user_id"}
    not_attributes |= {"server.apps", "service.resource", "service.name"}
    assert len(names) > 60
    assert sorted(name for name in names - not_attributes if f'"{name}' not in writers) == []


def test_the_defaults_the_readmes_prose_gives_are_the_codes() -> None:
    # Defaults stated in sentences, not in a YAML block the other tests load.
    server = ServerConfig()
    stream = stream_config.Config()
    replay_workers = 2 if commands._CORES > 1 else 0
    claims = {
        "`max_body_bytes` (10 MiB)": webhook_config.Config().max_body_bytes == stream.max_body_bytes == 10 * 2**20,
        "`max_events` stream events (50,000)": stream.max_events == 50_000,
        "`X-Pisama-Timestamp: <unix seconds>` (±300 s)": server.timestamp_tolerance == 300.0,
        "`X-Pisama-Nonce: <16-128 of A-Z a-z 0-9 _ ->`": signing.NONCE_FORMAT.startswith("16 to 128 characters"),
        "`server.live_max_subscribers` (32)": server.live_max_subscribers == 32,
        "`service.queue.run_id_retention` (a day by default)": QueueConfig(path="q").run_id_retention == 86_400.0,
        "`buffer_body_bytes` (1 MiB)": proxy.Config().buffer_body_bytes == 2**20,
        "poll that app every 30 s": poller.Config().interval == 30.0,
        "`--timeout`, 30 s by default": build_parser().parse_args(["replay", "f"]).timeout == 30.0,
        "An input of 1 MiB or more is processed and exported by two forked workers (on two cores or more)": (
            commands.REPLAY_WORKERS_MIN_BYTES == 2**20 and replay_workers == commands.REPLAY_WORKERS
        ),
    }
    assert _unstated_or_untrue("README.md", claims) == []


def test_the_figures_architecture_md_quotes_from_the_code_are_the_codes() -> None:
    claims = {
        "a body over 64 KiB is parsed on a thread first": stream_receiver._ON_LOOP_BYTES == 64 * 1024,
        "for an OTLP/HTTP request of up to 16 KiB": otlp_receiver._ON_LOOP_BYTES == 16 * 1024,
        "coming 20 ms apart at least (`POLL_GAP_S`": http_server.POLL_GAP_S == 0.02,
        "0.5 s apart at most (`POLL_INTERVAL_S`)": http_server.POLL_INTERVAL_S == 0.5,
        "up to 256 at a time": service_module._CLOSING_AT_ONCE == 256,
        "64 at a time (`_TRACES_AT_ONCE`)": service_module._TRACES_AT_ONCE == 64,
        "a run counted as its bytes plus 2,750": replay_workers.RUN_COST_BYTES == 2750,
        "young garbage collections come every 20,000 allocations": GC_YOUNG_THRESHOLD == 20_000,
        "take turns at the interpreter every 1 ms": SWITCH_INTERVAL_S == 0.001,
    }
    assert _unstated_or_untrue("docs/architecture.md", claims) == []


def test_the_defaults_security_md_states_are_the_codes() -> None:
    server = ServerConfig()
    proxy_cfg = proxy.Config()
    limits = RateLimitConfig()
    claims = {
        "an HS256 access token (`server.token_ttl`, 1 h)": server.token_ttl == 3600.0,
        "Keys shorter than 16 characters or with fewer than 8 different ones are refused at load": (
            settings.MIN_KEY_LENGTH,
            settings.MIN_KEY_DISTINCT_CHARACTERS,
        )
        == (16, 8),
        "`failed_attempts_per_minute` times (30, after a burst of 30)": (
            limits.failed_attempts_per_minute,
            limits.failed_attempts_burst,
        )
        == (30.0, 30),
        "from a proxy `server.trusted_proxies` names (none by default": server.trusted_proxies == [],
        "at its default 1,000 requests/s a key": limits.requests_per_second == 1000,
        "Nonces are 16-128 characters of `A-Z a-z 0-9 _ -`": signing.NONCE_FORMAT.startswith("16 to 128 characters"),
        "a queue of up to 1,000 events": live.QUEUE_SIZE == 1000,
        "a body up to `buffer_body_bytes` (1 MiB)": proxy_cfg.buffer_body_bytes == 2**20,
        "not one of the `max_connections` (200) to Dify": proxy_cfg.max_connections == 200,
        "every body must be complete within `body_timeout` (60 s)": proxy_cfg.body_timeout == 60.0,
        "`max_requests_per_client` (32) calls in flight": proxy_cfg.max_requests_per_client == 32,
        "`max_requests_per_instance` (100) per instance": proxy_cfg.max_requests_per_instance == 100,
        "`connect_timeout` (10 s), `read_timeout` (400 s of silence), `write_timeout` (30 s)": (
            proxy_cfg.connect_timeout,
            proxy_cfg.read_timeout,
            proxy_cfg.write_timeout,
        )
        == (10.0, 400.0, 30.0),
        "`pool_timeout` (5 s without a free connection)": proxy_cfg.pool_timeout == 5.0,
        "`server.header_timeout` (10 s)": server.header_timeout == 10.0,
        "`server.body_timeout` (30 s)": server.body_timeout == 30.0,
    }
    assert _unstated_or_untrue("docs/security.md", claims) == []


def test_the_defaults_traces_md_and_getting_runs_in_md_state_are_the_codes() -> None:
    assembly = AssemblyConfig()
    otlp_http = otlp_receiver.Config().protocols.http
    assert otlp_http is not None
    traces = {
        "`truncated` (default, each value at most `max_value_bytes`, 2,048 by default": (
            reduce.Config().content,
            reduce.Config().max_value_bytes,
        )
        == ("truncated", 2048),
        "runs younger than `settle` (10 s)": poller.Config().settle == 10.0,
    }
    getting_runs_in = {
        "the run is exported `terminal_wait` (2 s) after its `workflow_finished` came, or as `incomplete` after "
        "`idle_timeout` (5 min)": (assembly.terminal_wait, assembly.idle_timeout) == (2.0, 300.0),
        "or `export_wait` (30 s) passes without a span": assembly.export_wait == 30.0,
        "413 (over `max_body_bytes`, 20 MiB,": otlp_http.max_body_bytes == 20 * 2**20,
        "remembered up to `completed_run_memory` (10,000)": assembly.completed_run_memory == 10_000,
    }
    assert (
        _unstated_or_untrue("docs/traces.md", traces) + _unstated_or_untrue("docs/getting-runs-in.md", getting_runs_in)
        == []
    )


def test_the_configuration_example_is_a_valid_config() -> None:
    # README's "Configuration" block, as a user copies it, with its environment variables set.
    block = re.search(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text().split("## Configuration", 1)[1], re.S)
    assert block is not None
    environ = {
        "BRIDGE_API_KEY": "readme-key-0123456789",
        "BRIDGE_WEBHOOK_KEY": "readme-sender-0123456789",
        "BRIDGE_TOKEN_SECRET": "t" * 16 + "0123456789abcdef",
        "BRIDGE_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "MY_APP_SECRET": "readme-app-secret-0123456789",
    }
    config = parse_config(block.group(1), "README.md", environ)
    assert config.pipelines["traces"].exporters == ["otlp", "otlphttp/tempo"]
    assert config.service.assembly == AssemblyConfig()  # "idle_timeout: 5m, terminal_wait: 2s, decision_wait: 5s"


def test_getting_runs_ins_blocks_show_the_defaults() -> None:
    # docs/getting-runs-in.md: the `otlp` receiver's block ("require_api_key: true  # default", Dify's export held
    # `export_wait` 30 s, other traces `decision_wait` 5 s) and the poller's (30 s, 1 h, 10 s, 1 h).
    doc = (ROOT / "docs" / "getting-runs-in.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", doc, re.S)]
    otlp_block = next(b for b in blocks if "otlp" in b.get("receivers", {}))
    assert otlp_block["receivers"]["otlp"]["require_api_key"] is otlp_receiver.Config().require_api_key is True
    # "the embedded default has the HTTP part, `otlp: {}`; the gRPC listener ... only once `protocols.grpc` is set"
    embedded = yaml.safe_load((ROOT / "bridge" / "config" / "default_config.yaml").read_text())
    protocols = otlp_receiver.Config.model_validate(embedded["receivers"]["otlp"]).protocols
    assert "the embedded default has the HTTP part, `otlp: {}`" in " ".join(doc.split())
    assert (protocols.http is not None, protocols.grpc) == (True, None)
    assembly = AssemblyConfig.model_validate(otlp_block["service"]["assembly"])
    defaults = AssemblyConfig()
    assert (assembly.decision_wait, assembly.export_wait) == (defaults.decision_wait, defaults.export_wait)
    poller_block = next(b for b in blocks if "poller" in b.get("receivers", {}))
    assert poller.Config.model_validate(poller_block["receivers"]["poller"]) == poller.Config()
