"""The `dify-otel-bridge` command. Ctrl-C while the bridge's own modules are still loading (about a second
after the start) exits 130 quietly, as it does once they are loaded, instead of printing a traceback; so does
output piped into a reader that stopped (`detect FILE | head`), with 141, as a shell's own commands do."""

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
    try:
        code = run()
        sys.stdout.flush()  # here, so a reader gone shows now and not as the interpreter's warning at exit
    except BrokenPipeError:
        # The exit's own flush would fail again: what is left goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    sys.exit(code)
