"""Dify's tracing export read back into runs, one module per exporter (`phoenix` recorded, `provider` and
`enterprise` read from source); bridge/dify/export.py holds `recognize` and the module's story."""
