"""examples/compose checked without Docker: services, ports, mounts, and every config it ships."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx2 as httpx
import yaml

from bridge.config.loader import load_config, parse_config
from tests.bridge_server import BridgeServer, bridge_config_text, signed_headers
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES

COMPOSE = Path(__file__).parent.parent / "examples" / "compose"


def _yaml(name: str) -> Any:
    return yaml.safe_load((COMPOSE / name).read_text())


def test_services_ports_and_mounts() -> None:
    compose = _yaml("docker-compose.yaml")
    services = compose["services"]
    assert set(services) == {"dify-otel-bridge", "otel-collector", "jaeger", "tempo", "prometheus", "grafana"}
    published = {name: {p.split(":")[0] for p in spec.get("ports", [])} for name, spec in services.items()}
    assert published["dify-otel-bridge"] == {"8000"} and "16686" in published["jaeger"]
    assert "3000" in published["grafana"] and "3200" in published["tempo"]
    for name, spec in services.items():
        for dependency in spec.get("depends_on", []):
            assert dependency in services, (name, dependency)
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (COMPOSE / source).exists(), (name, source)
            else:
                assert source in compose["volumes"], (name, source)
    build = services["dify-otel-bridge"]["build"]
    assert (COMPOSE / build["context"] / build["dockerfile"]).is_file()
    # The README names every port the stack publishes, so what holds one (the Five minutes' Jaeger) is stopped.
    said = re.search(r"It publishes\s+ports ([\d, and]+):", (COMPOSE / "README.md").read_text())
    assert said is not None
    assert set(re.findall(r"\d+", said.group(1))) == set().union(*published.values())


def test_bridge_config_validates_and_points_at_the_collector() -> None:
    config = load_config(
        str(COMPOSE / "bridge.yaml"),
        environ={"BRIDGE_API_KEY": "compose-key-0123456789", "BRIDGE_TOKEN_SECRET": "s" * 32},
    )
    (exporter,) = config.exporters.values()
    assert exporter[1].endpoint == "otel-collector:4317"  # type: ignore[attr-defined]
    assert config.server.endpoint.startswith(["0.0.0.0", "8000"][0])
    assert set(config.pipelines["traces"].receivers) == {"otlp", "webhook", "stream", "proxy", "poller"}
    # Dify's API container is on a private network: the outbound policy must let the proxy and poller reach it.
    (instance,) = config.server.instances
    assert httpx.URL(instance.base_url).host in config.server.outbound.allowed_hosts


def test_collector_pipelines_use_what_they_define_and_reach_services() -> None:
    collector, services = _yaml("otel-collector.yaml"), set(_yaml("docker-compose.yaml")["services"])
    for pipeline in collector["service"]["pipelines"].values():
        for section in ("receivers", "processors", "exporters"):
            for component in pipeline.get(section, []):
                assert component in collector[section], (section, component)
    for exporter in collector["exporters"].values():
        host = exporter["endpoint"].split(":")[0]
        assert host in services


def test_tempo_listens_where_the_collector_sends_and_grafana_reads() -> None:
    tempo = _yaml("tempo.yaml")
    assert tempo["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")
    datasources = {d["type"]: d["url"] for d in _yaml("grafana-datasources.yaml")["datasources"]}
    assert datasources == {
        "tempo": f"http://tempo:{tempo['server']['http_listen_port']}",
        "jaeger": "http://jaeger:16686",
        "prometheus": "http://prometheus:9090",
    }


def test_prometheus_scrapes_the_bridge_and_grafana_provisions_the_dashboard() -> None:
    (job,) = _yaml("prometheus.yaml")["scrape_configs"]
    assert job["static_configs"][0]["targets"] == ["dify-otel-bridge:8000"]
    (provider,) = _yaml("grafana-dashboards.yaml")["providers"]
    grafana = _yaml("docker-compose.yaml")["services"]["grafana"]
    assert f"./dashboards:{provider['options']['path']}:ro" in grafana["volumes"]
    dashboard = json.loads((COMPOSE / "dashboards" / "dify-otel-bridge.json").read_text())
    uids = {d["uid"] for d in _yaml("grafana-datasources.yaml")["datasources"]}
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] in uids, panel["title"]
    (traceql,) = [t["query"] for p in dashboard["panels"] for t in p.get("targets", []) if "query" in t]
    assert traceql == '{ event:name = "detection" && event.detection.severity = "high" }'


def _dashboard_metrics() -> set[str]:
    """Metric names in the dashboard's PromQL: selectors (`name{`, `name[`) and bare `(name)`, not `by (label)`."""
    dashboard = json.loads((COMPOSE / "dashboards" / "dify-otel-bridge.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", []) if "expr" in t]
    exprs.append(dashboard["templating"]["list"][0]["query"]["query"])
    names: set[str] = set()
    for expr in exprs:
        names |= set(re.findall(r"([a-z_][a-z0-9_]*)\s*[{\[]", expr))
        names |= set(re.findall(r"(?<!by )\(\s*([a-z_][a-z0-9_]*)\s*[),]", expr))
    return names - {"label_values", "sum", "rate", "increase", "max", "histogram_quantile"}


def test_every_metric_on_the_dashboard_is_one_the_bridge_serves(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    with BridgeServer(parse_config(bridge_config_text(tmp_path, otlp_sink.grpc_endpoint))) as bridge:
        # A run with a finding (its LLM stopped at the length limit), so the detections metric exists too.
        body = (CAPTURES / "a_llm_simple.sse").read_bytes().replace(b'"stop"', b'"length"')
        headers = {
            **signed_headers(body, headers={"X-Dify-App-Id": "app-under-test"}),
            "Content-Type": "text/event-stream",
        }
        assert httpx.post(f"{bridge.base}/api/v1/dify/events", content=body, headers=headers).status_code == 202
        otlp_sink.wait_for_spans(4)
        served = {line.split("{")[0].split(" ")[0] for line in httpx.get(f"{bridge.base}/metrics").text.splitlines()
                  if line and not line.startswith("#")}  # fmt: skip
    wanted = _dashboard_metrics()
    assert len(wanted) >= 10
    assert wanted <= served, wanted - served


SYSTEMD = COMPOSE.parent / "systemd"


def test_the_systemd_unit_ships_every_file_its_steps_copy_and_its_config_uses_its_directories() -> None:
    unit = (SYSTEMD / "dify-otel-bridge.service").read_text()
    steps = [line.removeprefix("#").strip() for line in unit.splitlines() if line.startswith("#   ")]
    copied = [re.search(r"cp (\S+) (\S+)", step) for step in steps]
    copies = {m.group(1): m.group(2) for m in copied if m}
    assert copies == {
        "examples/systemd/bridge.yaml": "/etc/dify-otel-bridge/bridge.yaml",
        "examples/systemd/dify-otel-bridge.service": "/etc/systemd/system/",
    }
    for source in copies:
        assert (COMPOSE.parent.parent / source).is_file(), source
    # The directory is made before anything is copied into it, and the unit reads what was copied.
    made = next(i for i, step in enumerate(steps) if "mkdir -p /etc/dify-otel-bridge" in step)
    assert made <= next(i for i, step in enumerate(steps) if "cp examples/systemd/bridge.yaml" in step)
    assert "--config /etc/dify-otel-bridge/bridge.yaml" in unit and "EnvironmentFile=/etc/dify-otel-bridge/env" in unit
    assert any("> /etc/dify-otel-bridge/env" in step for step in steps)
    secrets = {"BRIDGE_API_KEY": "k" * 8 + "0123456789abcdef", "BRIDGE_TOKEN_SECRET": "s" * 32}
    config = load_config(str(SYSTEMD / "bridge.yaml"), environ=secrets)
    # Its state where the unit lets it write (no compose host names: this runs beside the backend).
    assert config.server.store.startswith("/var/lib/dify-otel-bridge/")
    assert config.service.queue.path.startswith("/var/lib/dify-otel-bridge/")
    assert "ReadWritePaths=/var/lib/dify-otel-bridge" in unit
    (exporter,) = config.exporters.values()
    assert exporter[1].endpoint == "http://localhost:4317"  # type: ignore[attr-defined]
    assert config.server.api_keys == [secrets["BRIDGE_API_KEY"]]
