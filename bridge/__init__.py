"""dify-otel-bridge: Dify workflow runs → OpenTelemetry traces over OTLP."""

__version__ = "0.1.0"

# Allocations between young garbage collections in the server and its pipeline workers (CPython's default:
# 700). Each run leaves thousands of short-lived containers; collecting every 700 scanned ones about to be
# freed anyway, ~8 % of a busy bridge's time.
GC_YOUNG_THRESHOLD = 20_000
