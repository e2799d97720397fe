"""dify-otel-bridge: Dify workflow runs → OpenTelemetry traces over OTLP."""

__version__ = "0.1.0"

# Allocations between young garbage collections in the server and its pipeline workers (CPython's default:
# 700). Each run leaves thousands of short-lived containers; collecting every 700 scanned ones about to be
# freed anyway, ~8 % of a busy bridge's time.
GC_YOUNG_THRESHOLD = 20_000

# How long a thread runs Python before one that waits for the interpreter lock may take it (CPython's default:
# 5 ms). The server's threads hand each other work (the queue's writer, the deliveries, a worker's answers),
# and each SQLite statement or wake-up gives up the lock: behind a busy thread, every one waited the whole
# interval to get it back (a commit of five statements: 27 ms; at 1 ms: 6 ms; bench/queue_cost.py).
SWITCH_INTERVAL_S = 0.001
