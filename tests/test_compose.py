"""examples/compose checked without Docker: services, ports, mounts, and every config it ships."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bridge.config import load_config

COMPOSE = Path(__file__).parent.parent / "examples" / "compose"


def _yaml(name: str) -> Any:
    return yaml.safe_load((COMPOSE / name).read_text())


def test_services_ports_and_mounts() -> None:
    compose = _yaml("docker-compose.yaml")
    services = compose["services"]
    assert set(services) == {"dify-otel-bridge", "otel-collector", "jaeger", "tempo", "grafana"}
    published = {name: {p.split(":")[0] for p in spec.get("ports", [])} for name, spec in services.items()}
    assert published["dify-otel-bridge"] == {"8000"} and "16686" in published["jaeger"]
    assert "3000" in published["grafana"] and "3200" in published["tempo"]
    for name, spec in services.items():
        for dependency in spec.get("depends_on", []):
            assert dependency in services, (name, dependency)
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (COMPOSE / source).is_file(), (name, source)
            else:
                assert source in compose["volumes"], (name, source)
    build = services["dify-otel-bridge"]["build"]
    assert (COMPOSE / build["context"] / build["dockerfile"]).is_file()


def test_bridge_config_validates_and_points_at_the_collector() -> None:
    config = load_config(str(COMPOSE / "bridge.yaml"), environ={"BRIDGE_API_KEY": "k", "BRIDGE_TOKEN_SECRET": "s" * 32})
    (exporter,) = config.exporters.values()
    assert exporter[1].endpoint == "otel-collector:4317"  # type: ignore[attr-defined]
    assert config.server.endpoint.startswith(["0.0.0.0", "8000"][0])
    assert set(config.pipelines["traces"].receivers) == {"otlp", "webhook", "stream", "proxy", "poller"}


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
    }
