"""The `dify-otel-bridge` command. Ctrl-C while the bridge's own modules are still loading (about a second
after the start) exits 130 quietly, as it does once they are loaded, instead of printing a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from bridge.cli.commands import main as run
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(run())
