"""Compiled regular expressions kept between runs of the command, as Python keeps compiled modules in `.pyc`
files: the detectors' and redaction's patterns took 0.12 s of CPU to compile at every start (about a third of
`replay`'s first worker's start-up, on its longest path; bench/RESULTS.md). Compiling a pattern is parsing it
and generating its matcher's code in Python, then handing that code to the C matcher (`_sre.compile`); the code
is kept here, in the package's `__pycache__`, so that a later start hands it over without the Python part.

Only the patterns compiled while a module loads are kept (the code's; one compiled later may be made from data).
The file holds, per (pattern, flags), what `re._compiler.compile` hands `_sre.compile`; it is only read by the
Python that wrote it (its version, `_sre.MAGIC` and code size are checked), and the C matcher checks the code it
is given. Anything wrong with the file (absent, unreadable, another Python's, cut short) means compiling as
Python does; a directory that cannot be written means no file (as for `.pyc` files, the file is trusted as the
package's own code is). Written whole (a new file renamed over the old), only when a start compiled something
the file did not have. Unlike `.pyc` files it is written also under PYTHONDONTWRITEBYTECODE: it is no bytecode,
and without it every start compiles.
"""

from __future__ import annotations

import array
import contextlib
import importlib.util
import marshal
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The C matcher (no type stubs); and the private parts of `re` this relies on, as in CPython 3.11 to 3.13: without
# them, `install` stays out of the way.
_sre: Any = importlib.import_module("_sre")
_compiler: Any = getattr(re, "_compiler", None)
_parser: Any = getattr(re, "_parser", None)

# What `_sre.compile` takes after the pattern: flags, the code (as bytes of `array("I")`), the groups less one,
# the group index and the index's inverse.
_Compiled = tuple[int, bytes, int, dict[str, int], tuple[str | None, ...]]
_Key = tuple[str | bytes, int]
# Past this many entries, only those this process used are written (the others: patterns edited away).
MAX_ENTRIES = 4096
_STAMP = (sys.hexversion, _sre.MAGIC, _sre.CODESIZE)


class RegexCache:
    """The file's entries, and `compile` to put in `re._compiler.compile`'s place. A pattern it does not have is
    kept only if `keeps()` says so when it is compiled (by default: while a module loads)."""

    def __init__(self, path: Path, keeps: Callable[[], bool] | None = None) -> None:
        self.path = path
        self.keeps = keeps or loading_a_module
        self.entries: dict[_Key, _Compiled] = _read(path)
        self.used: set[_Key] = set()
        self.new = False

    def compile(self, pattern: object, flags: int = 0) -> re.Pattern[Any]:
        if not isinstance(pattern, str | bytes) or flags & re.DEBUG:
            as_python_does: re.Pattern[Any] = _original(pattern, flags)
            return as_python_does  # an already parsed pattern (inside `re`), or one to print
        key = (pattern, int(flags))
        entry = self.entries.get(key)
        if entry is None:
            if not self.keeps():
                made_at_run_time: re.Pattern[Any] = _original(pattern, flags)
                return made_at_run_time
            entry = self.entries[key] = _compiled(pattern, int(flags))
            self.new = True
        self.used.add(key)
        final_flags, code, groups, groupindex, indexgroup = entry
        compiled: re.Pattern[Any] = _sre.compile(
            pattern, final_flags, array.array("I", code).tolist(), groups, groupindex, indexgroup
        )
        return compiled

    def save(self) -> None:
        """The entries written, with those the file has now (another process of the command, `replay`'s worker
        say, may have written its own since), if this process compiled any the file did not have (a directory that
        cannot be written: none)."""
        if not self.new:
            return
        entries = {**_read(self.path), **self.entries}
        if len(entries) > MAX_ENTRIES:
            entries = {key: value for key, value in entries.items() if key in self.used}
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # under `sys.pycache_prefix`, say
            temporary.write_bytes(marshal.dumps((_STAMP, entries)))
            os.replace(temporary, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            return
        self.new = False


def _read(path: Path) -> dict[_Key, _Compiled]:
    with contextlib.suppress(Exception):  # any fault of the file: compile as Python does
        stamp, entries = marshal.loads(path.read_bytes())
        if stamp == _STAMP and isinstance(entries, dict):
            return entries
    return {}


def loading_a_module() -> bool:
    """Whether a module is being loaded on this thread: its patterns are the code's. A pattern compiled later
    may be made from data (a detector's of a tool's parameter names), which the file must neither grow by nor
    keep on disk."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == "<frozen importlib._bootstrap>":
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _compiled(pattern: str | bytes, flags: int) -> _Compiled:
    """What `re._compiler.compile` hands `_sre.compile` for `pattern`, made as it makes it."""
    parsed = _parser.parse(pattern, flags)
    code = array.array("I", _compiler._code(parsed, flags)).tobytes()
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    return int(flags | parsed.state.flags), code, parsed.state.groups - 1, groupindex, tuple(indexgroup)


_original: Any = getattr(_compiler, "compile", None)
_installed: RegexCache | None = None


def default_path() -> Path | None:
    """`bridge/__pycache__/regex_cache.<interpreter>.marshal`, where this Python keeps this module's `.pyc`."""
    try:
        return Path(importlib.util.cache_from_source(__file__)).with_suffix(".marshal")
    except NotImplementedError:  # an interpreter without a cache tag
        return None


def install(path: Path | None = None) -> RegexCache | None:
    """Every pattern compiled from now on in this process (and in processes forked from it) goes through the
    cache at `path` (default: `default_path()`); the same one if already installed."""
    global _installed
    path = path or default_path()
    usable = (
        _compiler is not None
        and _parser is not None
        and hasattr(_compiler, "_code")
        and array.array("I").itemsize == _sre.CODESIZE
    )
    if _installed is None and path is not None and usable and _round_trips():
        _installed = RegexCache(path)
        _compiler.compile = _installed.compile
    return _installed


def _round_trips() -> bool:
    """Whether this Python's private parts still work as read here: a pattern with a named group, a repeat and a
    class, made from its code, is the pattern Python compiles (a later CPython may change `_sre.compile`'s
    arguments; then the cache stays out of the way rather than break every import)."""
    probe = r"(?P<key>[a-z_]+)\s*=\s*(\d{2,}|x+?)$"
    try:
        flags, code, groups, groupindex, indexgroup = _compiled(probe, 0)
        made = _sre.compile(probe, flags, array.array("I", code).tolist(), groups, groupindex, indexgroup)
        return bool(made == _original(probe, 0))
    except Exception:  # any change of the private parts
        return False


def save() -> None:
    """The installed cache written, if it has new entries."""
    if _installed is not None:
        _installed.save()
