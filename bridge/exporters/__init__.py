"""Exporters: thin adapters that configure the OTel SDK's `SpanExporter`s."""
