"""The Collector's `tls:` block, shared by the OTLP exporters."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TLSConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Plain-text connection (no TLS). None: decided by the endpoint's scheme and OTEL_EXPORTER_OTLP_INSECURE.
    insecure: bool | None = None
    # CA bundle to verify the server with. None: the system roots.
    ca_file: str | None = None
    # Client certificate and key for mTLS. None: no client certificate.
    cert_file: str | None = None
    key_file: str | None = None
