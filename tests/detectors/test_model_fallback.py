from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from bridge.management.baselines import WriteBehindBaselines
from bridge.management.settings import ServerConfig
from bridge.management.store import Store, load_fernet
from bridge.processors.detectors import Config, DetectionProcessor
from detectors import MemoryBaselines
from tests.detectors.build import findings, llm, run_spans
from tests.detectors.corpus import model_runs


def _only(key: str) -> Config:
    from detectors import registry

    return Config.model_validate({k: {"enabled": False} for k in registry() if k != key})


def test_a_model_the_node_never_used_fires_after_enough_history() -> None:
    processor = DetectionProcessor(_only("dify_model_fallback"))
    *history, last = model_runs("app", ["gpt-4o"] * 5 + ["gpt-4o-mini"])
    assert all(processor.detect(spans) == [] for spans in history)
    (finding,) = processor.detect(last)
    assert "answered with gpt-4o-mini; its last 5 runs" in finding.summary


def test_a_node_of_many_models_is_judged_no_more_and_its_history_stays_bounded() -> None:
    """10,000 spans of another service, each naming a model of its own, were each reported with every model
    before them in the text: findings without end, quadratic redaction work (issue 28's review)."""
    processor = DetectionProcessor(_only("dify_model_fallback"))
    found = [processor.detect(spans) for spans in model_runs("app", ["gpt-4o"] * 5 + [f"model-{i}" for i in range(40)])]
    reported = [f for run in found for f in run]
    assert len(reported) == 8  # model-0 .. model-7: then the node has answered with more than 8 models
    assert max(len(f.summary) for f in reported) < 200
    assert processor.detect(model_runs("app", ["gpt-4o"])[0]) == []


def test_the_history_counts_runs_not_the_executions_of_an_iteration() -> None:
    processor = DetectionProcessor(_only("dify_model_fallback"))

    def run(models: list[str]) -> list[str]:
        spans = run_spans([llm("writer", model=m) for m in models], app_id="app", workflow_id="v1")
        return [f.summary for f in processor.detect(spans)]

    assert run(["gpt-4o"] * 6 + ["gpt-4o-mini"]) == []  # seven rounds of one run: no history yet


def test_a_fallback_after_runs_of_rounds_names_the_runs() -> None:
    processor = DetectionProcessor(_only("dify_model_fallback"))
    for _ in range(5):
        assert processor.detect(run_spans([llm("writer", model="gpt-4o")] * 4, app_id="app")) == []
    (finding,) = processor.detect(run_spans([llm("writer", model="gpt-4o")] * 3 + [llm("writer", model="qwen-max")],
                                            app_id="app"))  # fmt: skip
    assert "its last 5 runs" in finding.summary  # five runs of four rounds each


def test_configured_and_answering_models_differ() -> None:
    node = llm(model="gpt-4o-mini", inputs={"model_provider": "openai", "model_name": "gpt-4o"})
    (finding,) = findings(run_spans([node]), "dify_model_fallback")
    assert finding.severity == "high" and "configured for gpt-4o but gpt-4o-mini answered" in finding.summary


def test_a_dated_snapshot_or_alias_of_the_model_is_the_same_model() -> None:
    """Providers answer with the snapshot a name points to: no fallback."""
    for configured, answered in [
        ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
        ("gpt-4", "gpt-4-0613"),
        ("claude-3-5-sonnet-latest", "claude-3-5-sonnet-20241022"),
        ("claude-3-5-sonnet", "claude-3-5-sonnet@20240620"),
    ]:
        node = llm(model=answered, inputs={"model_provider": "x", "model_name": configured})
        assert findings(run_spans([node]), "dify_model_fallback") == [], answered
    node = llm(model="gpt-4o-2024-08-06", inputs={"model_provider": "openai", "model_name": "gpt-4o-mini"})
    assert len(findings(run_spans([node]), "dify_model_fallback")) == 1  # another model's snapshot
    processor = DetectionProcessor(_only("dify_model_fallback"))
    runs = model_runs("app", ["gpt-4o-mini", "gpt-4o-mini-2024-07-18"] * 4 + ["gpt-4o-mini-2024-07-18"])
    assert all(processor.detect(spans) == [] for spans in runs)  # the name and its snapshot taking turns


def test_a_new_workflow_version_starts_the_history_over() -> None:
    processor = DetectionProcessor(_only("dify_model_fallback"))
    for spans in model_runs("app", ["gpt-4o"] * 6):
        processor.detect(spans)
    assert processor.detect(model_runs("app", ["claude-3-haiku"], version="v2")[0]) == []


def test_baselines_survive_a_restart_in_the_store(tmp_path: Path) -> None:
    cfg = ServerConfig(store=str(tmp_path / "s.db"))
    store = Store(cfg.store, load_fernet(cfg))
    baselines = WriteBehindBaselines(store)
    first = DetectionProcessor(_only("dify_model_fallback"), baselines=baselines)
    for spans in model_runs("app", ["gpt-4o"] * 5):
        first.detect(spans)
    assert store.get(next(iter(baselines._dirty))) is None  # in memory until flushed
    baselines.flush()
    assert not baselines._dirty
    store.close()
    reopened = Store(cfg.store, load_fernet(cfg))
    second = DetectionProcessor(_only("dify_model_fallback"), baselines=WriteBehindBaselines(reopened))
    assert len(second.detect(model_runs("app", ["gpt-4o-mini"])[0])) == 1
    reopened.close()


def test_cost_far_above_the_apps_median() -> None:
    processor = DetectionProcessor(_only("cost"))

    def priced(price: str) -> list[object]:
        node = llm()
        node["process_data"]["usage"]["total_price"] = price
        return run_spans([node], app_id="steady-app")  # type: ignore[return-value]

    for _ in range(10):
        assert processor.detect(priced("0.01")) == []  # type: ignore[arg-type]
    assert processor.detect(priced("0.02")) == []  # type: ignore[arg-type]
    (finding,) = processor.detect(priced("0.5"))  # type: ignore[arg-type]
    assert "the app's median of 0.01 over its last 11 runs" in finding.summary


def test_versions_taking_turns_keep_their_own_history() -> None:
    processor = DetectionProcessor(_only("dify_model_fallback"))
    for spans in model_runs("app", ["gpt-4o"] * 5):
        assert processor.detect(spans) == []
    assert processor.detect(model_runs("app", ["claude-3-haiku"], version="v2")[0]) == []  # a new version's model
    (finding,) = processor.detect(model_runs("app", ["qwen-max"])[0])  # back on v1, another model
    assert finding.evidence["history"] == {"gpt-4o": 5} and finding.evidence["used"] == "qwen-max"


def test_a_node_using_two_models_fires_only_on_a_third() -> None:
    processor = DetectionProcessor(_only("dify_model_fallback"))
    for spans in model_runs("app", ["gpt-4o", "gpt-4o-mini"] * 4):
        assert processor.detect(spans) == []  # load balancing between two models is the node's habit
    (finding,) = processor.detect(model_runs("app", ["qwen-max"])[0])
    assert finding.evidence["rule"] == "a model none of the node's last 8 runs used"


def test_a_silent_switch_that_lasts_fires_for_its_first_runs() -> None:
    """Issue 25: switches of a node against its own history lasting several runs were found once."""
    processor = DetectionProcessor(_only("dify_model_fallback"))
    runs = [processor.detect(spans) for spans in model_runs("app", ["gpt-4o"] * 6 + ["qwen-max"] * 7)]
    assert [len(found) for found in runs] == [0] * 6 + [1] * 5 + [0] * 2  # min_history (5) runs, then its habit
    assert runs[8][0].evidence["streak"] == 2 and runs[8][0].evidence["history"] == {"gpt-4o": 6}
    assert "(and qwen-max since 2 runs)" in runs[8][0].summary


def test_models_taking_turns_are_no_streak() -> None:
    processor = DetectionProcessor(_only("dify_model_fallback"))
    models = ["gpt-4o"] * 5 + ["gpt-4o-mini"] + ["gpt-4o", "gpt-4o-mini", "gpt-4o-mini", "gpt-4o"] * 3
    found = [len(processor.detect(spans)) for spans in model_runs("app", models)]
    assert found == [0] * 5 + [1] + [0] * 12  # the new model once; then balancing between two known ones


def test_counts_kept_by_an_earlier_release_read_as_history() -> None:
    from detectors import MemoryBaselines, Trace
    from detectors.model_fallback import Config as FallbackConfig
    from detectors.model_fallback import create

    baselines = MemoryBaselines()
    (spans,) = model_runs("app", ["qwen-max"])
    trace = Trace(spans, baselines)
    (key,) = [f"dify_model_fallback:{trace.app}:writer:v1"]
    baselines.put(key, {"gpt-4o": 6})
    (finding,) = list(create(FallbackConfig())(trace))  # type: ignore[operator]
    assert finding.evidence["history"] == {"gpt-4o": 6}
    assert baselines.get(key) == ["gpt-4o"] * 6 + ["qwen-max"]


def test_a_second_switch_to_a_model_the_node_fell_back_to_before() -> None:
    """Held-out 3: a silent switch to a model the node had answered with once before was taken for its habit."""
    processor = DetectionProcessor(_only("dify_model_fallback"))
    models = ["gpt-4o"] * 12 + ["gpt-4o-mini"] + ["gpt-4o"] * 12 + ["gpt-4o-mini"]
    found = [processor.detect(spans) for spans in model_runs("app", models)]
    assert [len(f) for f in found] == [0] * 12 + [1] + [0] * 12 + [1]
    assert found[-1][0].evidence["rule"] == "a model in 1 of the node's last 25 runs used"
    balanced = DetectionProcessor(_only("dify_model_fallback"))  # a second model in a third of the runs: a habit
    models = (["gpt-4o", "gpt-4o", "gpt-4o-mini"] * 9)[:26]
    assert sum(len(balanced.detect(spans)) for spans in model_runs("app", models)) == 0


def test_raw_names_kept_before_model_families_read_as_their_family() -> None:
    """A store written before snapshots counted as their model holds raw names: a snapshot kept there is the
    model it stands for, so the first runs after an upgrade do not take the model for a new one."""
    from detectors import MemoryBaselines, Trace
    from detectors.model_fallback import Config as FallbackConfig
    from detectors.model_fallback import create

    baselines = MemoryBaselines()
    (spans,) = model_runs("app", ["gpt-4o-mini"])
    trace = Trace(spans, baselines)
    key = f"dify_model_fallback:{trace.app}:writer:v1"
    baselines.put(key, ["gpt-4o-mini-2024-07-18"] * 6)
    assert list(create(FallbackConfig())(trace)) == []  # type: ignore[operator]
    assert baselines.get(key) == ["gpt-4o-mini"] * 7


def test_a_history_this_detector_wrote_is_read_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """The history handed back is the very list the detector put, already by model family: it is not named
    anew (fifty names a run were half the detector's cost); one written elsewhere still is."""
    from detectors import model_fallback

    baselines = MemoryBaselines()
    processor = DetectionProcessor(_only("dify_model_fallback"), baselines)
    runs = model_runs("app", ["gpt-4o"] * 8 + ["gpt-4o-mini"])
    for spans in runs[:6]:
        assert processor.detect(spans) == []
    renamed: list[object] = []
    read_whole = model_fallback._recent

    def recent(stored: Any) -> Any:
        renamed.append(stored)
        return read_whole(stored)

    monkeypatch.setattr(model_fallback, "_recent", recent)
    assert processor.detect(runs[6]) == []
    assert renamed == []
    (key,) = [k for k in baselines._values if k.startswith("dify_model_fallback:") and k.endswith(":v1")]
    baselines.put(key, list(baselines.get(key)))  # as a restarted store hands it back: a list of its own
    assert processor.detect(runs[7]) == [] and len(renamed) == 1
    (finding,) = processor.detect(runs[8])
    assert "answered with gpt-4o-mini" in finding.summary


# (prompt, completion) USD per 1M tokens, OpenAI's list prices
_PRICES = {"gpt-4o": (2.5, 10.0), "gpt-4.1": (2.0, 8.0), "gpt-4o-mini": (0.15, 0.6), "gpt-4.1-nano": (0.1, 0.4),
           "gpt-4.1-mini": (0.4, 1.6), "gpt-3.5-turbo": (0.5, 1.5)}  # fmt: skip


def _priced_run(
    model: str, version: str, provider: str = "langgenius/openai/openai", title: str = "writer"
) -> list[ReadableSpan]:
    """A run of the app's writer node on `model`, priced as Dify prices it (per-token prices in its usage)."""
    node = llm("writer", model=model, prompt_tokens=100, completion_tokens=50, title=title)
    node["process_data"]["model_provider"] = provider
    prompt, completion = _PRICES[model]
    usage = node["process_data"]["usage"]
    usage.update({"prompt_price": f"{100 * prompt / 1e6:.10f}", "completion_price": f"{50 * completion / 1e6:.10f}"})
    node["inputs"] = {"model_provider": provider, "model_name": model}  # Dify's configured model
    return run_spans([node], app_id="app", workflow_id=version)


def test_a_republished_node_on_a_cheaper_model_is_flagged_on_every_run_of_that_version() -> None:
    """Real faults 3 (`clinic_cheaper_model`), held-out 9: an app republished with its LLM on a cheaper model is a
    silent downgrade of the node against its own history, for as long as that version serves; a later version
    keeping the model takes it as the node's usual."""
    processor = DetectionProcessor(_only("dify_model_fallback"))
    for _ in range(6):
        assert processor.detect(_priced_run("gpt-4o-mini", "v1")) == []
    found = [processor.detect(_priced_run("gpt-4.1-nano", "v2")) for _ in range(22)]
    assert [len(f) for f in found] == [1] * 22
    evidence = found[0][0].evidence
    assert evidence["rule"] == "a cheaper model than the node's usual one"
    assert (evidence["usual"], evidence["usual_share"], evidence["used"]) == ("gpt-4o-mini", "6 of 6", "gpt-4.1-nano")
    assert evidence["price_per_1m_tokens"] == {"gpt-4o-mini": [0.15, 0.6], "gpt-4.1-nano": [0.1, 0.4]}
    assert found[5][0].evidence["streak"] == 5
    late = found[21][0].evidence  # past the window of runs in a row: judged by what the version did
    assert (late["rule"], late["usual"], late["workflow_version"]) == (
        "a cheaper model than the node's usual one before this version", "gpt-4o-mini", "v2")  # fmt: skip
    assert processor.detect(_priced_run("gpt-4.1-nano", "v3")) == []


def test_a_model_the_node_s_title_names_is_no_silent_switch() -> None:
    """Held-out 14's announced upgrade: every model node republished on gpt-4o and renamed for it ("Answer (GPT-4o)")
    is the author's choice, said so; a title naming another model (the mini one it fell back from) is no such word."""
    for title, flagged in (("Answer (GPT-4o)", 0), ("Answer (GPT 4o mini)", 1), ("Answer", 1)):
        processor = DetectionProcessor(_only("dify_model_fallback"))
        for _ in range(6):
            processor.detect(_priced_run("gpt-4o-mini", "v1", title="Answer"))
        assert len(processor.detect(_priced_run("gpt-4o", "v2", title=title))) == flagged, title


def test_a_republished_node_on_a_new_generation_or_an_unpriced_model_is_left_alone() -> None:
    """A generation's successor (gpt-4o-mini → gpt-4.1-mini, 2.7x dearer: held-out 3-6's deliberate upgrades; gpt-4o
    → gpt-4.1, a list price a fifth lower) is no downgrade; nor is a model Dify did not price, of a generation no
    older."""
    for usual, new in (("gpt-4o-mini", "gpt-4.1-mini"), ("gpt-4o", "gpt-4.1")):
        processor = DetectionProcessor(_only("dify_model_fallback"))
        for _ in range(6):
            processor.detect(_priced_run(usual, "v1"))
        assert [processor.detect(_priced_run(new, "v2")) for _ in range(3)] == [[]] * 3, new
    processor = DetectionProcessor(_only("dify_model_fallback"))
    for spans in model_runs("app", ["gpt-4o"] * 6):
        processor.detect(spans)
    assert processor.detect(model_runs("app", ["gpt-4o-mini"], version="v2")[0]) == []  # no prices


def test_a_republished_node_on_another_price_class_is_flagged() -> None:
    """Real faults 1-4 (`orders_other_model`, `visa_other_model`, `support_other_model`, `triage_other_model`,
    `post_other_model`), held-out 9 and 10: an app republished with its node on a model 16x its usual one's price
    per token is labelled a model fault, not a cost fault only; a call of that version Dify did not price (refused
    for its length) is judged by the model's prices from an earlier run."""
    processor = DetectionProcessor(_only("dify_model_fallback"))
    for _ in range(6):
        processor.detect(_priced_run("gpt-4o-mini", "v1"))
    (finding,) = processor.detect(_priced_run("gpt-4o", "v2"))
    assert finding.evidence["rule"] == (
        "a model >= dearer_factor (5) x the node's usual one's price per token, since this version")  # fmt: skip
    assert finding.evidence["price_per_1m_tokens"] == {"gpt-4o-mini": [0.15, 0.6], "gpt-4o": [2.5, 10.0]}
    assert "16.7x dearer per token than gpt-4o-mini" in finding.summary
    refused = llm("writer", model="gpt-4o", status="failed", error="This model's maximum context length is 128000")
    refused["process_data"]["usage"] = {}
    refused["outputs"] = {}
    assert len(processor.detect(run_spans([refused], app_id="app", workflow_id="v2"))) == 1
    off = DetectionProcessor(Config.model_validate({**_only("dify_model_fallback").model_dump(),
                                                    "dify_model_fallback": {"dearer_factor": None}}))  # fmt: skip
    for _ in range(6):
        off.detect(_priced_run("gpt-4o-mini", "v1"))
    assert off.detect(_priced_run("gpt-4o", "v2")) == []


def test_a_republished_node_on_an_older_generation_is_flagged_whatever_its_price() -> None:
    """Held-out 10: a classifier republished from gpt-4o-mini to gpt-3.5-turbo, dearer per token and a generation
    older; the same line only (a model without a generation in its name, or of another line, is not compared)."""
    from detectors.model_fallback import generation

    processor = DetectionProcessor(_only("dify_model_fallback"))
    for _ in range(6):
        processor.detect(_priced_run("gpt-4o-mini", "v1"))
    found = [processor.detect(_priced_run("gpt-3.5-turbo", "v2")) for _ in range(3)]
    assert [len(f) for f in found] == [1, 1, 1]
    assert found[0][0].evidence["rule"] == "an older generation than the node's usual model before this version"
    assert [generation(m) for m in ("gpt-4.1-nano", "llama-3-8b", "qwen2.5-72b", "claude-sonnet-4-5", "qwen-max")] == [
        ("gpt", 4.1), ("llama", 3.0), ("qwen", 2.5), ("claude-sonnet", 4.5), None]  # fmt: skip


def test_a_version_putting_the_node_back_on_its_first_model_is_a_rollback() -> None:
    """Held-out 18's telecom desk: its classifier republished on gpt-4.1-nano for weeks, then put back on gpt-4o-mini,
    the model it started on (an older generation than nano: flagged on 15 clean runs before); the same fault again,
    once the first model is the usual one again, is flagged again."""
    processor = DetectionProcessor(_only("dify_model_fallback"))
    for _ in range(6):
        processor.detect(_priced_run("gpt-4o-mini", "v1"))
    assert all(processor.detect(_priced_run("gpt-4.1-nano", "v2")) for _ in range(25))
    assert [processor.detect(_priced_run("gpt-4o-mini", "v3")) for _ in range(20)] == [[]] * 20
    assert processor.detect(_priced_run("gpt-4.1-nano", "v4"))  # the usual model mini again: nano is no rollback


def test_versions_on_two_models_taking_turns_have_no_usual_model() -> None:
    """An A/B test of two published versions, one on a cheaper model: neither model is the node's usual."""
    processor = DetectionProcessor(_only("dify_model_fallback"))
    pairs = [("gpt-4o-mini", "a"), ("gpt-4o-mini", "a"), ("gpt-4.1-nano", "b")] * 4 + [("gpt-4.1-nano", "b")] * 2
    runs = [_priced_run(model, version) for model, version in pairs]
    assert sum(len(processor.detect(spans)) for spans in runs) == 0


def test_a_move_to_another_providers_cheaper_model_is_a_migration() -> None:
    """A republished node on a cheaper model of another provider was set up on purpose (held-out 3's new versions
    moving from Claude or Qwen); the same price cut within the provider is flagged."""
    processor = DetectionProcessor(_only("dify_model_fallback"))
    for _ in range(6):
        processor.detect(_priced_run("gpt-4o-mini", "v1"))
    elsewhere = _priced_run("gpt-4.1-nano", "v2", provider="langgenius/azure_openai/azure_openai")
    assert processor.detect(elsewhere) == []
    assert len(processor.detect(_priced_run("gpt-4.1-nano", "v2"))) == 1
