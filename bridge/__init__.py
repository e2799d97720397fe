"""dify-otel-bridge: Dify workflow runs → OpenTelemetry traces over OTLP."""

__version__ = "0.1.0"
