"""The `dify-otel-bridge` command. Ctrl-C while the bridge's own modules are still loading (about a second
after the start) exits 130 quietly, as it does once they are loaded, instead of printing a traceback."""

from __future__ import annotations

import atexit
import sys

from bridge import regex_cache


def main() -> None:
    try:
        regex_cache.install()  # before the modules that compile patterns as they load
        from bridge.cli.commands import main as run
    except KeyboardInterrupt:
        sys.exit(130)
    atexit.register(regex_cache.save)
    sys.exit(run())
