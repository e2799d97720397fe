"""The durable export queue: what the receivers acknowledged, on disk until every exporter delivered it.

`storage` is the SQLite file (queued OTLP requests, per-exporter cursors, dead letters, the journal of
in-flight stream events); `delivery` is one thread per exporter reading it; `retry` is the backoff policy.
"""
