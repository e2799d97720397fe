"""The bridge's own telemetry: its metrics provider, per-run aggregates, metrics read from each run's
spans, and what became of the traces the `otlp` receiver took."""
