"""Span building and OTLP encoding: a run → its spans and attributes, spans → OTLP protobuf and JSON, and
spans received over OTLP → whole traces."""
