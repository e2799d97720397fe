from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bridge.config.errors import ConfigError
from bridge.config.loader import default_config, load_config, parse_config
from bridge.config.models import AssemblyConfig, ServiceConfig, parse_component_id
from bridge.config.reference import render as render_reference
from bridge.exporters import otlp, otlphttp
from bridge.exporters.tls import TLSConfig
from bridge.processors import batch, reduce

TESTDATA = Path(__file__).parent / "testdata"
INVALID = yaml.safe_load((TESTDATA / "invalid_configs.yaml").read_text())
REPO = Path(__file__).parents[2]


def test_full_config_decodes_exactly() -> None:
    config = load_config(str(TESTDATA / "full.yaml"), environ={"TENANT": "team-a"})
    assert config.service == ServiceConfig(
        resource={"service.name": "my-dify", "deployment.environment": "${literal}"},
        assembly=AssemblyConfig(idle_timeout=90, terminal_wait=0.5, completed_run_memory=10),
        pipelines=config.service.pipelines,
    )
    assert {name: (p.processors, p.exporters) for name, p in config.pipelines.items()} == {
        "traces": (["reduce", "batch/fast"], ["otlp", "otlphttp/tempo"]),
        "traces/debug": ([], ["console"]),
    }
    assert config.processors["reduce"][1] == reduce.Config(content="full")
    assert config.processors["batch/fast"][1] == batch.Config(timeout=0.1, send_batch_size=64)
    assert config.exporters["otlp"][1] == otlp.Config(endpoint="collector:4317", tls=TLSConfig(insecure=True))
    assert config.exporters["otlphttp/tempo"][1] == otlphttp.Config(
        endpoint="http://tempo:4318", headers={"X-Scope-OrgID": "team-a"}, compression="gzip", timeout=3
    )
    assert config.exporters["otlp"][0].type_name == "otlp"


def test_env_default_is_overridden_by_the_variable() -> None:
    config = load_config(str(TESTDATA / "full.yaml"), environ={"TENANT": "t", "TEST_OTLP": "otel:4317"})
    assert config.exporters["otlp"][1] == otlp.Config(endpoint="otel:4317", tls=TLSConfig(insecure=True))


def test_an_environment_variable_of_undecodable_bytes_is_refused_where_it_is_used() -> None:
    # os.environ keeps bytes that are not UTF-8 as lone surrogates (surrogateescape)
    text = "exporters:\n  otlp:\n    endpoint: ${env:TEST_OTLP}\nservice: {pipelines: {traces: {exporters: [otlp]}}}\n"
    with pytest.raises(ConfigError, match=r"<test>:3: exporters.otlp.endpoint: holds '\\udcff'"):
        parse_config(text, "<test>", environ={"TEST_OTLP": "otel\udcff:4317"})


def test_empty_sections_equal_the_defaults() -> None:
    config = parse_config(
        "exporters: {otlp: }\nprocessors: {batch: }\nservice: {pipelines: {traces: {exporters: [otlp]}}}"
    )
    assert config.exporters["otlp"][1] == otlp.Config()
    assert config.processors["batch"][1] == batch.Config()
    assert config.service.assembly == AssemblyConfig()
    assert config.service.resource == {"service.name": "dify"}


def test_an_api_key_of_16_characters_8_of_them_different_is_taken() -> None:
    # The other side of invalid_configs.yaml's api_key_of_15_characters and api_key_of_7_different_characters.
    text = (
        'server:\n  api_keys: ["abcdefghabcdefgh"]\n'
        "exporters: {otlp: }\nservice: {pipelines: {traces: {exporters: [otlp]}}}\n"
    )
    assert parse_config(text, "<test>", environ={}).server.key_scopes() == {
        "abcdefghabcdefgh": frozenset({"ingest", "manage"})
    }


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_configs(case: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(INVALID[case]["text"], "<test>", environ={})
    assert INVALID[case]["error"] in str(info.value)


@pytest.mark.parametrize(
    ("component_id", "expected"), [("otlp", ("otlp", "")), ("otlp/tempo", ("otlp", "tempo")), (" a / b ", ("a", "b"))]
)
def test_component_ids(component_id: str, expected: tuple[str, str]) -> None:
    assert parse_component_id(component_id) == expected


@pytest.mark.parametrize("component_id", ["", "/x", "otlp/", " / "])
def test_bad_component_ids(component_id: str) -> None:
    with pytest.raises(ValueError, match="invalid component id"):
        parse_component_id(component_id)


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read"):
        load_config("nope.yaml")


def test_embedded_default_and_shipped_configs_are_valid() -> None:
    default = default_config(environ={})
    assert default.exporters["otlp"][1] == otlp.Config(endpoint="http://localhost:4317")
    assert default_config(environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel:4317"}).exporters["otlp"][1] == (
        otlp.Config(endpoint="https://otel:4317")
    )
    shipped_default = REPO / "bridge" / "config" / "default_config.yaml"
    assert (REPO / "config" / "default.yaml").read_text() == shipped_default.read_text()
    shipped = sorted((REPO / "config").rglob("*.yaml"))
    assert len(shipped) >= 4
    for path in shipped:
        load_config(str(path), environ={})


def test_every_shipped_config_runs_the_detectors_first() -> None:
    # The README promises findings "in Jaeger and Tempo where you already look": a user copying an example
    # for their backend must get them without adding a processor.
    for path in sorted((REPO / "config").rglob("*.yaml")):
        for name, pipeline in load_config(str(path), environ={}).pipelines.items():
            assert pipeline.processors[:1] == ["detectors"], f"{path.relative_to(REPO)}: {name}"


def test_the_configuration_reference_is_current() -> None:
    """docs/configuration.md is generated from the config models: regenerate it with
    `dify-otel-bridge config-reference > docs/configuration.md` after changing a setting."""
    assert (REPO / "docs" / "configuration.md").read_text() == render_reference()
    for key in ("decision_wait", "body_timeout", "traces_url_path", "max_elapsed_time", "budget_per_run"):
        assert f"`{key}`" in render_reference(), key


def test_every_error_of_a_file_is_named_at_once_in_file_order() -> None:
    text = """\
service:
  pipelines: {traces: {exporters: [otlp, otlp/b]}}
  assembly: {idle_timeout: soon}
exporters:
  otlp: {endpiont: x}
  otlp/b: {headers: {x: "${env:NOPE_B}"}}
server:
  token_secret: ${env:NOPE_C}
  api_keys: ["${env:NOPE_D}"]
"""
    with pytest.raises(ConfigError) as info:
        parse_config(text, "<test>", environ={})
    assert str(info.value).splitlines() == [
        '<test>:3: service.assembly.idle_timeout: expected a duration like "250ms", "5s", "1m30s",'
        " \"2h\" or a number of seconds, got 'soon'",
        "<test>:5: exporters.otlp.endpiont: unknown key; did you mean 'endpoint'?",
        "<test>:6: exporters.otlp/b.headers.x: environment variable NOPE_B is not set"
        ": export it, or give it a default: ${env:NOPE_B:-default}",
        "<test>:8: server.token_secret: environment variable NOPE_C is not set"
        ": export it, or give it a default: ${env:NOPE_C:-default}",
        "<test>:9: server.api_keys.0: environment variable NOPE_D is not set"
        ": export it, or give it a default: ${env:NOPE_D:-default}",
    ]


def test_a_collector_exporter_blocks_keys_the_bridge_does_not_take_say_what_to_do() -> None:
    # The README says a Collector exporter block works as is; its `encoding` got "did you mean 'endpoint'?".
    text = """\
exporters:
  otlp: {endpoint: "otelcol:4317", sending_queue: {enabled: true, queue_size: 5000}}
  otlphttp: {endpoint: "https://tempo:4318", encoding: proto, tls: {insecure_skip_verify: true}}
service: {pipelines: {traces: {exporters: [otlp, otlphttp]}}}
"""
    with pytest.raises(ConfigError) as info:
        parse_config(text, "<test>", environ={})
    assert str(info.value).splitlines() == [
        "<test>:2: exporters.otlp.sending_queue: unknown key; the bridge's queue is service.queue (on disk, always"
        " on): leave sending_queue out",
        "<test>:3: exporters.otlphttp.tls.insecure_skip_verify: unknown key; not taken: trust the server's"
        " certificate with ca_file (or insecure: true, plain text)",
        "<test>:3: exporters.otlphttp.encoding: unknown key; the bridge sends OTLP protobuf only: leave encoding out",
    ]


def test_a_file_not_in_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"exporters:\n  otlp: {endpoint: caf\xe9}\n")  # saved by an editor in Latin-1: a traceback before
    with pytest.raises(ConfigError, match=r"latin1\.yaml:2: not UTF-8 \(byte 0xe9 at offset 33\)"):
        load_config(str(path))


def test_each_key_of_a_pipeline_says_what_it_lists() -> None:
    # One comment above the three lists gave the receivers and exporters rows "processors run in this order".
    table = render_reference().split("`service.pipelines.<name>`", 1)[1]
    meanings = {row.split(" | ")[0]: row.split(" | ")[-1] for row in table.splitlines() if row.startswith("| `")}
    assert [meanings[f"| `{key}`"].split(" ids")[0] for key in ("receivers", "processors", "exporters")] == [
        "Receiver", "Processor", "Exporter"
    ]  # fmt: skip


def test_a_yaml_alias_bomb_is_refused_before_it_is_walked() -> None:
    """Found attacking: nine lines of nine aliases each (387 million values) held `validate` past two minutes."""
    text = 'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]\n'
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        text += f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    with pytest.raises(ConfigError, match=r"more than 100,000 values once its aliases are expanded"):
        parse_config(text + "receivers: {webhook: {}}\n", "bomb.yaml")
    small = 'a: &a {timeout: 1s}\nprocessors: {"batch": *a, "batch/2": *a}\n'  # aliases as such are fine
    with pytest.raises(ConfigError, match=r"a: unknown section"):
        parse_config(small, "small.yaml")


def test_yaml_nested_past_the_stack_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^deep.yaml: invalid YAML: nested too deeply$"):
        parse_config("receivers: " + "[" * 100_000 + "]" * 100_000, "deep.yaml")
