"""The otlp receiver's settings (its `Config`, YAML `receivers.otlp`): apart from the receiver's module, so that
reading a config (`replay` reads every section) does not import the receiver's server libraries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bridge.management.settings import ServerTLS

MIB = 1 << 20


class HttpProtocol(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Served on `server.endpoint`; Dify's Phoenix provider posts to `<its endpoint setting>/v1/traces`.
    traces_url_path: str = Field(default="/v1/traces", pattern=r"^/")
    # Larger bodies (after gzip is undone) are refused with 413.
    max_body_bytes: int = Field(default=20 * MIB, gt=0)


class GrpcProtocol(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # host:port of the gRPC listener (4317 is OTLP's; the default config exports to it, so pick another
    # port when the bridge runs beside a backend on the same machine).
    endpoint: str = Field(default="127.0.0.1:4317", pattern=r"^[^\s/]+:\d+$")
    # Larger messages are refused by gRPC itself (RESOURCE_EXHAUSTED).
    max_recv_msg_size_mib: int = Field(default=20, gt=0, le=2047)
    # TLS for this listener (as `server.tls`): with `client_ca_file`, senders need a client certificate.
    tls: ServerTLS | None = None

    @field_validator("endpoint")
    @classmethod
    def _port_in_range(cls, endpoint: str) -> str:
        # The pattern takes any digits; a port over 65535 would only fail when the listener binds.
        if not 1 <= int(endpoint.rsplit(":", 1)[1]) <= 65535:
            raise ValueError(f"{endpoint!r}: the port is not 1-65535")
        return endpoint


class Protocols(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Each on when present (an empty mapping: its defaults).
    http: HttpProtocol | None = None
    grpc: GrpcProtocol | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_means_defaults(cls, data: Any) -> Any:
        # As in the Collector, `grpc:` with nothing after it turns the protocol on with its defaults.
        if isinstance(data, dict):
            return {key: {} if value is None else value for key, value in data.items()}
        return data

    @model_validator(mode="after")
    def _one_at_least(self) -> Protocols:
        if self.http is None and self.grpc is None:
            raise ValueError("turn on http, grpc or both")
        return self


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # OTLP/HTTP (on the bridge's server) and OTLP/gRPC (a listener of its own); default: HTTP only.
    protocols: Protocols = Field(default_factory=lambda: Protocols(http=HttpProtocol()))
    # false: take spans without a bridge API key (only where the network itself is trusted).
    require_api_key: bool = True
