"""What a pipeline worker's CPU a run costs, stage by stage, against another version of the code in the same process,
and proof that both write the same bytes.

    .venv/bin/python bench/worker_cost.py --before DIR [--rounds 8] [--copies 65]

`DIR` holds the other version's `bridge` and `detectors` (`git archive main bridge detectors | tar -x -C DIR`).
They are copied under other names (`bridge_before`, `detectors_before`, their imports rewritten) so that both
versions load in this one process. The corpus is `bench/end_to_end_replay.py`'s (1,170 runs of the recorded
streams), read and assembled once by each version; then each round builds the spans, runs the default pipeline's
processors (detectors, redact, reduce) and encodes the OTLP requests, stage by stage, each version in turn (the
order alternating by round): CPU seconds (`time.process_time`), which a shared machine inflates less than wall
time, and in one process, so that both sides see the same machine at nearly the same moment.

Before timing, both versions process the corpus, every recording (the streams and bodies of
/work/shared/reference and /work/recordings, tests/testdata, examples/runs, with a cut to 6,000-byte requests
too) and the recorded streams with the secret corpus's samples (tests/testdata/secrets/corpus.json, one of every
kind gitleaks knows) planted in their inputs and node outputs, and must give the same OTLP bytes, findings and
run metrics, trace for trace; the run stops otherwise. Runs are built from their parts once, when read (not
timed: `bridge/dify` is another stage).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from end_to_end_replay import SOURCES, _captures, make_corpus  # noqa: E402

RECORDINGS = [Path("/work/shared/reference"), Path("/work/recordings/dify-1.14.1-otlp-more"),
              ROOT / "tests/testdata", ROOT / "examples/runs"]  # fmt: skip
_IMPORT = re.compile(r"\b(from|import) (bridge|detectors)\b")


def renamed_copy(before: Path, into: Path) -> None:
    """`before`'s packages as `bridge_before` and `detectors_before`, importing each other by those names."""
    for package in ("bridge", "detectors"):
        shutil.copytree(before / package, into / f"{package}_before")
    for path in into.rglob("*.py"):
        text = _IMPORT.sub(r"\1 \2_before", path.read_text())
        text = text.replace('resources.files("bridge.', 'resources.files("bridge_before.')
        if path.name == "registry.py" and path.parent.name == "config":  # components' modules, named as text
            text = text.replace(': "bridge.', ': "bridge_before.')
        path.write_text(text.replace('import_module(f"detectors.', 'import_module(f"detectors_before.'))


class Version:
    """One version's default pipeline, over the corpus's runs read and assembled by it."""

    def __init__(self, package: str, detectors: str, corpus: list[str]) -> None:
        def module(name: str) -> ModuleType:
            return __import__(f"{package}.{name}", fromlist=["_"])

        config = module("config.loader").default_config()
        (spec,) = config.pipelines.values()
        self.pipeline_module = module("service.pipeline")
        self.processors = self.pipeline_module.processors_of(config, spec)[0]
        self.config, self.spec = config, spec
        self.builder = module("trace.spans").SpanBuilder(config.service.resource)
        self.encode = module("queue.encoding").encode
        self.replay, self.closed_run = module("dify.replay"), module("dify.run_parts").ClosedRun
        self.runs = self.read(corpus)
        assert type(self.processors[0]).__module__.startswith(package) and detectors in sys.modules

    def read(self, paths: list[str]) -> list[Any]:
        items = self.replay.read_closed_runs(paths)
        return [item.build() if isinstance(item, self.closed_run) else item for item in items
                if type(item).__name__ != "InputError"]  # fmt: skip

    def outputs(self, runs: list[Any], max_bytes: int | None) -> list[tuple[Any, ...]]:
        """Every trace's requests, findings and run metrics, through a fresh pipeline (fresh detector baselines)."""
        pipe = self.pipeline_module
        pipeline = pipe.Pipeline("traces", pipe.processors_of(self.config, self.spec)[0], ["otlp"], (), max_bytes)
        out = []
        for run in runs:
            processed = pipe.process_run(self.builder, [pipeline], run)
            findings = [(f.detector, f.severity, f.confidence, f.summary, repr(f.evidence), f.span_id)
                        for f in processed.findings]  # fmt: skip
            out.append((processed.entries, findings, repr(processed.measurements)))
        return out

    def stages(self) -> dict[str, float]:
        took: dict[str, float] = {}
        start = time.process_time()
        traces = [self.builder.build(run) for run in self.runs]
        took["spans built"] = time.process_time() - start
        for processor in self.processors:
            start = time.process_time()
            if hasattr(processor, "attach"):
                traces = [processor.attach(spans)[0] for spans in traces]
            else:
                traces = [processor.process(spans) for spans in traces]
            took[type(processor).__name__] = time.process_time() - start
        start = time.process_time()
        for spans in traces:
            self.encode(spans, None)
        took["OTLP encoding"] = time.process_time() - start
        took["all of these"] = sum(took.values())
        return took


def recordings() -> list[str]:
    found = {str(p) for root in RECORDINGS for p in root.rglob("*") if p.suffix in (".sse", ".json", ".ndjson")}
    return sorted(p for p in found if "/secrets/" not in p and "index" not in Path(p).name)


def with_secrets(directory: Path) -> list[str]:
    """The recorded streams with a sample of the secret corpus in each run's inputs and each node's outputs."""
    samples = [s["text"] for s in json.loads((ROOT / "tests/testdata/secrets/corpus.json").read_text())["samples"]]
    written = []
    for index, path in enumerate(sorted(RECORDINGS[0].glob("*/*.sse"))):
        lines: list[str] = []
        for line in path.read_text().split("\n"):
            event = json.loads(line[5:]) if line.startswith("data:") else None
            data = event.get("data") if isinstance(event, dict) else None
            if (
                isinstance(event, dict)
                and isinstance(data, dict)
                and event.get("event") in ("workflow_started", "node_finished")
            ):
                key = "inputs" if event["event"] == "workflow_started" else "outputs"
                secret = samples[(index * 7 + len(lines)) % len(samples)]
                data[key] = {**(data.get(key) or {}), "note": f"see {secret} here"}
                line = "data: " + json.dumps(event, ensure_ascii=False)
            lines.append(line)
        written.append(directory / f"{index:02d}-{path.name}")
        Path(written[-1]).write_text("\n".join(lines))
    return [str(path) for path in written]


def same_output(before: Version, now: Version, secrets: list[str]) -> int:
    """Compares both versions' output on the corpus, every recording and the streams with planted secrets; returns
    the traces compared."""
    compared = 0
    files = [*recordings(), *secrets]
    for paths, cuts in ((None, (None,)), *(([path], (None, 6000)) for path in files)):
        try:
            runs = (before.runs, now.runs) if paths is None else (before.read(paths), now.read(paths))
        except Exception:  # a recording neither reads (an API answer that is no run): both must refuse it
            continue
        for max_bytes in cuts:
            old, new = before.outputs(runs[0], max_bytes), now.outputs(runs[1], max_bytes)
            if old != new:
                raise SystemExit(f"different output for {paths or 'the corpus'} (max_bytes {max_bytes})")
            compared += len(old)
    return compared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="a directory with the other `bridge`, `detectors`")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--copies", type=int, default=65, help="runs made from each captured stream")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        renamed_copy(args.before.resolve(), tmp)
        sys.path.insert(0, tmp_name)
        corpus = make_corpus(tmp / "corpus", _captures(SOURCES), args.copies).files
        before, now = Version("bridge_before", "detectors_before", corpus), Version("bridge", "detectors", corpus)
        (tmp / "secrets").mkdir()
        compared = same_output(before, now, with_secrets(tmp / "secrets"))
        print(f"same OTLP bytes, findings and run metrics on {compared} traces")
    gc.collect()
    gc.freeze()  # as a pipeline worker does (bridge/service/pipeline_workers.py)
    gc.set_threshold(20_000, *gc.get_threshold()[1:])
    times: dict[str, dict[str, list[float]]] = {"before": {}, "now": {}}
    sides: list[tuple[str, Callable[[], dict[str, float]]]] = [("before", before.stages), ("now", now.stages)]
    for index in range(args.rounds + 1):
        for side, stages in sides if index % 2 else sides[::-1]:
            took = stages()
            for stage, seconds in took.items():
                if index:  # the first round warms both up
                    times[side].setdefault(stage, []).append(seconds)
    load = os.getloadavg()
    print(f"{args.rounds} rounds, {len(now.runs)} runs, CPU seconds, load average {load[0]:.1f} / {load[2]:.1f}:")
    for stage, old in times["before"].items():
        new = times["now"][stage]
        pairs = statistics.median(n / o for n, o in zip(new, old, strict=True))
        print(f"  {stage:20s} before {min(old):.3f} (median {statistics.median(old):.3f})  now {min(new):.3f} "
              f"(median {statistics.median(new):.3f})  now/before {min(new) / min(old):.2f} best, {pairs:.2f} "
              f"median of rounds")  # fmt: skip


if __name__ == "__main__":
    main()
