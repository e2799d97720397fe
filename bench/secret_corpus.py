"""A corpus of generated secrets, one of every kind the gitleaks secret scanner knows, how much of it
redaction masks, and what redaction costs a run.

    .venv/bin/python bench/secret_corpus.py generate --gitleaks PATH/TO/gitleaks.toml   # writes the corpus
    .venv/bin/python bench/secret_corpus.py measure                                     # prints the coverage
    .venv/bin/python bench/secret_corpus.py cost [--planted]                            # µs of `redact` a run

`generate` reads the rule list of a gitleaks checkout (config/gitleaks.toml; not kept in this repository) and
writes, for every rule with a pattern, a sample made by walking the rule's regular expression with random
choices (seeded: the same corpus every time), checked against the rule itself: never a real credential. Rules
that name a service and then any assignment (`adobe … = <32 hex>`) get a realistic one, the rule's id as the
variable: `ADOBE_CLIENT_SECRET = "<value>"`. The file is tests/testdata/secrets/corpus.json.

`measure` plants each sample in every place the bridge exports (tests/processors/test_secret_corpus.py: span name,
attribute key and value, JSON inside a value, kvlist, bytes, event name and attributes, link attributes,
status message, resource attribute) and counts the rules whose secret the default `redact` masks in all of
them.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import re._constants as sre  # type: ignore[import-not-found]  # the regex parser's node types: the only way to walk a pattern
import re._parser as sre_parse  # type: ignore[import-not-found]  # (private modules: no stubs)
import string
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bridge.processors import redact  # noqa: E402
from bridge.trace.spans import SpanBuilder, with_attributes  # noqa: E402
from tests.processors.test_secret_corpus import coverage  # noqa: E402 - the test owns the planting
from tests.runs import load_runs  # noqa: E402

CORPUS = ROOT / "tests/testdata/secrets/corpus.json"
_ACCOUNT = "284468544249"  # generated
_PRINTABLE = string.ascii_letters + string.digits + "-_.+/=:"
_SEMI_GENERIC = "(?:=|>|:{1,3}=|\\|\\||:|=>|\\?=|,)"
# Rules for public identifiers, not secrets: counted apart.
IDENTIFIERS = re.compile(r"-(?:client-id|access-id|api-id|pub-key|public-key|pub-api-key)$")


def python_pattern(go: str) -> str:
    """A gitleaks (Go RE2) pattern in Python's syntax: flags set mid-pattern and `\\z` have no Python twin."""
    head, body = ("(?i)", go[4:]) if go.startswith("(?i)") else ("", go)
    body = body.replace("(?i)", "").replace("\\z", "\\Z").replace("[[:alnum:]]", "[A-Za-z0-9]")
    return head + body


class _Walker:
    """Random text matching a parsed pattern; records what each group produced."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.groups: dict[int, str] = {}

    def text(self, parsed: Any, repeated: bool = False) -> str:
        return "".join(self.node(op, arg, repeated) for op, arg in parsed)

    def node(self, op: Any, arg: Any, repeated: bool) -> str:
        if op is sre.LITERAL:
            return chr(arg)
        if op is sre.NOT_LITERAL:
            return self.rng.choice([c for c in _PRINTABLE if ord(c) != arg])
        if op is sre.ANY:  # a lone `.` between literals is a full stop left unescaped (`hooks.slack.com`)
            return self.rng.choice(string.ascii_letters + string.digits) if repeated else "."
        if op is sre.IN:
            return self.rng.choice(self.charset(arg))
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, high, item = arg
            high = low + (0 if op is sre.MIN_REPEAT else self.rng.randint(0, 6)) if high is sre.MAXREPEAT else high
            count = low if op is sre.MIN_REPEAT else self.rng.randint(low, max(low, min(high, low + 6)))
            return "".join(self.text(item, True) for _ in range(count))
        if op is sre.SUBPATTERN:
            group, _, _, item = arg
            produced = self.text(item, repeated)
            if group:
                self.groups[group] = produced
            return produced
        if op is sre.BRANCH:
            return self.text(self.rng.choice(arg[1]), repeated)
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            return ""
        if op is sre.GROUPREF:
            return self.groups.get(arg, "")
        raise ValueError(f"cannot generate {op}")

    def charset(self, items: Any) -> str:
        chars: set[str] = set()
        negate = False
        for op, arg in items:
            if op is sre.NEGATE:
                negate = True
            elif op is sre.LITERAL:
                chars.add(chr(arg))
            elif op is sre.RANGE:
                chars.update(chr(c) for c in range(arg[0], arg[1] + 1) if chr(c).isprintable())
            elif op is sre.CATEGORY:
                chars.update({sre.CATEGORY_DIGIT: string.digits, sre.CATEGORY_WORD: string.ascii_letters + "_" +
                              string.digits, sre.CATEGORY_SPACE: " "}.get(arg, ""))  # fmt: skip
        if negate:
            chars = set(_PRINTABLE) - chars
        return "".join(sorted(c for c in chars if c.isprintable() and c.isascii())) or "a"


def _sample(rule: dict[str, Any], rng: random.Random) -> dict[str, str] | None:
    pattern = python_pattern(rule["regex"])
    compiled = re.compile(pattern)
    semi_generic = _SEMI_GENERIC in rule["regex"]
    group = rule.get("secretGroup")
    for _ in range(50):
        walker = _Walker(rng)
        produced = walker.text(sre_parse.parse(pattern))
        match = compiled.search(produced)
        if match is None:
            continue
        index = group or next((i for i in range(1, (compiled.groups or 0) + 1) if match.group(i)), 0)
        secret = match.group(index)
        if not secret or len(secret) < 6:
            continue
        if semi_generic:
            name = rule["id"].upper().replace("-", "_")
            value = secret if secret[0] in "\"'" else f'"{secret}"'
            return {"rule": rule["id"], "text": f"{name} = {value}", "secret": secret}
        return {"rule": rule["id"], "text": produced, "secret": secret}
    return None


def generate(gitleaks: Path) -> None:
    rules = tomllib.loads(gitleaks.read_text())["rules"]
    rng = random.Random(24)
    samples, skipped = [], []
    for rule in rules:
        sample = _sample(rule, rng) if rule.get("regex") else None
        if sample:
            samples.append(sample)
        else:
            skipped.append(rule["id"])
    CORPUS.parent.mkdir(parents=True, exist_ok=True)
    CORPUS.write_text(json.dumps({"rules": len(rules), "skipped": skipped, "samples": samples}, indent=1) + "\n")
    print(f"{len(samples)} samples of {len(rules)} rules; no sample for {skipped}")


def measure() -> None:
    corpus = json.loads(CORPUS.read_text())
    missed = coverage(corpus["samples"])
    secrets = [s for s in corpus["samples"] if not IDENTIFIERS.search(s["rule"])]
    missed_secrets = [rule for rule in missed if not IDENTIFIERS.search(rule)]
    print(f"rules in gitleaks' list: {corpus['rules']}, with a sample: {len(corpus['samples'])}")
    print(f"masked in every place: {len(corpus['samples']) - len(missed)} of {len(corpus['samples'])}")
    print(f"secrets (public identifiers left out): {len(secrets) - len(missed_secrets)} of {len(secrets)}")
    print(f"missed: {', '.join(missed)}")


def _planted(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    """`spans` with a labelled account number in the first span and the same number bare in the last."""
    first, last = spans[0], spans[-1]
    first = with_attributes(first, {**(first.attributes or {}), "input.value": f"account number {_ACCOUNT}"})
    last = with_attributes(last, {**(last.attributes or {}), "output.value": f"Paid from {_ACCOUNT}."})
    return [first, *spans[1:-1], last] if len(spans) > 1 else [first]


def cost(rounds: int, planted: bool) -> None:
    """The default `redact` over the runs bench/detection_cost.py uses (none holds a secret: the common case;
    `planted`: each with an account number masked by its label and repeated without it), best of `rounds`
    passes: the least a busy machine lets through."""
    paths = [*sorted((ROOT / "tests/testdata/dify-1.14.1").glob("*.sse")), ROOT / "examples/runs/workflow_full.sse",
             ROOT / "examples/runs/chatflow_agent.sse"]  # fmt: skip
    traces = [SpanBuilder().build(run) for run in load_runs(*paths)]
    traces = [_planted(spans) for spans in traces] if planted else traces
    processor = redact.create(redact.Config())
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for spans in traces:
            processor.process(spans)
        best = min(best, (time.perf_counter() - started) / len(traces))
    print(f"redact: {best * 1e6:.0f} µs a run (best of {rounds} passes over {len(traces)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("generate").add_argument("--gitleaks", type=Path, required=True)
    commands.add_parser("measure")
    costing = commands.add_parser("cost")
    costing.add_argument("--rounds", type=int, default=30)
    costing.add_argument("--planted", action="store_true", help="a labelled account number in every run")
    args = parser.parse_args()
    if args.command == "generate":
        generate(args.gitleaks)
    elif args.command == "measure":
        measure()
    else:
        cost(args.rounds, args.planted)


if __name__ == "__main__":
    main()
