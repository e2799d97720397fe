"""The compiled patterns kept between starts (bridge/regex_cache.py): a pattern from the cache is the pattern
Python compiles (`re.Pattern`'s equality compares the flags and the matcher's code), a later start compiles
nothing the file has, and a broken file only means compiling as Python does."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bridge import regex_cache
from bridge.regex_cache import RegexCache

ROOT = Path(__file__).resolve().parents[2]
# Their patterns, compiled into `re`'s own cache as they load: the largest of the detectors' and redaction's.
for _module in ("bridge.processors.sensitive", "detectors.rag_poisoning", "detectors.tool_errors"):
    importlib.import_module(_module)


def _compiled_patterns() -> list[tuple[str | bytes, int]]:
    """Every (pattern, flags) this process compiled so far: the detectors' and redaction's among them."""
    cached: dict[tuple[type, str | bytes, int], re.Pattern[str]] = getattr(re, "_cache")  # noqa: B009
    return [(pattern.pattern, pattern.flags) for pattern in cached.values()]


def test_a_pattern_from_the_cache_is_the_one_python_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    patterns = _compiled_patterns()
    assert len(patterns) > 100
    original = getattr(re, "_compiler").compile  # noqa: B009
    cache = RegexCache(tmp_path / "patterns.marshal", keeps=lambda: True)
    made = [cache.compile(pattern, flags) for pattern, flags in patterns]
    assert made == [original(pattern, flags) for pattern, flags in patterns]
    cache.save()

    def parse(*args: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(re._parser, "parse", parse)
    loaded = RegexCache(tmp_path / "patterns.marshal")
    assert [loaded.compile(pattern, flags) for pattern, flags in patterns] == made
    assert not loaded.new


def test_a_later_start_compiles_none_of_the_patterns_the_first_kept(tmp_path: Path) -> None:
    path = tmp_path / "patterns.marshal"
    script = f"""
import os, re, sys
from pathlib import Path
from bridge import regex_cache
regex_cache.install(Path({str(path)!r}))
parsed = []
parse = re._parser.parse
re._parser.parse = lambda *args: parsed.append(args[0]) or parse(*args)
import detectors.rag_poisoning, detectors.tool_errors, bridge.processors.sensitive
re.compile(f"made at run time, from data: {{os.getpid()}}")  # never kept
regex_cache.save()
print(len(parsed))
"""

    def start() -> int:
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
        return int(done.stdout)

    assert start() > 100  # the first start compiles them all
    assert path.stat().st_size > 0
    assert start() == 1  # the pattern made at run time only
    assert not any("made at run time" in str(pattern) for pattern, _ in RegexCache(path).entries)


@pytest.mark.parametrize("content", [b"", b"not marshal", b"\xe9" * 100])
def test_a_broken_file_means_compiling_as_python_does(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "patterns.marshal"
    path.write_bytes(content)
    cache = RegexCache(path, keeps=lambda: True)
    assert cache.compile(r"(?P<word>\w+)@", re.I) == re.compile(r"(?P<word>\w+)@", re.I)
    cache.save()
    assert RegexCache(path).entries.keys() == {(r"(?P<word>\w+)@", int(re.I))}


def test_another_pythons_file_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "patterns.marshal"
    cache = RegexCache(path, keeps=lambda: True)
    cache.compile("a+b", 0)
    cache.save()
    monkeypatch.setattr(regex_cache, "_STAMP", (0, *regex_cache._STAMP[1:]))
    assert RegexCache(path).entries == {}


def test_a_directory_that_cannot_be_written_means_no_file(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the directory would be
    cache = RegexCache(blocked / "patterns.marshal", keeps=lambda: True)
    cache.compile("a+b", 0)
    cache.save()
    assert not (blocked / "patterns.marshal").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_a_save_keeps_what_another_process_saved_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "patterns.marshal"
    first, second = RegexCache(path, keeps=lambda: True), RegexCache(path, keeps=lambda: True)  # both read no file
    first.compile("worker's", 0)
    first.save()
    second.compile("replaying process's", 0)
    second.save()
    assert RegexCache(path).entries.keys() == {("worker's", 0), ("replaying process's", 0)}


def test_a_python_whose_private_parts_changed_gets_no_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def changed(*args: object) -> None:
        raise TypeError("compile() takes other arguments now")

    monkeypatch.setattr(regex_cache._sre, "compile", changed)
    monkeypatch.setattr(regex_cache, "_installed", None)
    assert regex_cache.install(tmp_path / "patterns.marshal") is None
