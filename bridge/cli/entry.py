"""The `dify-otel-bridge` command. Ctrl-C while the bridge's own modules are still loading (about a second
after the start) exits 130 quietly, as it does once they are loaded, instead of printing a traceback."""

from __future__ import annotations

import atexit
import os
import sys

from bridge import regex_cache


def main() -> None:
    # gRPC's C core logs a line of its own per failed TLS handshake (`I1207 ... ssl_transport_security.cc`),
    # between the exporter's warnings that say the same in words; set it to see them.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    try:
        regex_cache.install()  # before the modules that compile patterns as they load
        from bridge.cli.commands import main as run
    except KeyboardInterrupt:
        sys.exit(130)
    atexit.register(regex_cache.save)
    sys.exit(run())
