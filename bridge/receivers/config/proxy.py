"""The proxy receiver's settings (its `Config`, YAML `receivers.proxy`): apart from the receiver's module, so that
reading a config (`replay` reads every section) does not import the receiver's server libraries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bridge.config.durations import Duration


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Prefix before `/{instance}/v1/...`; empty: the instance name is the first path segment.
    prefix: str = Field(default="", pattern=r"^(/[^{}]*[^/{}])?$")
    # Connect timeout towards Dify (name resolution included).
    connect_timeout: Duration = Field(default=10.0, gt=0)
    # Longest silence while reading Dify's answer: between chunks of a stream, or before a blocking answer (it
    # comes at the run's end; Dify's docker setup ends a request after GUNICORN_TIMEOUT=360 s, read from its
    # .env.example, not verified).
    read_timeout: Duration = Field(default=400.0, gt=0)
    # Longest wait to hand a piece of a request to Dify.
    write_timeout: Duration = Field(default=30.0, gt=0)
    # Longest wait for a free connection to Dify when `max_connections` are busy; then 503.
    pool_timeout: Duration = Field(default=5.0, gt=0)
    # Connections to Dify, over all instances.
    max_connections: int = Field(default=200, gt=0)
    # A client's request body must be complete within this long of its headers, or 408 (uploads included).
    body_timeout: Duration = Field(default=60.0, gt=0)
    # Bodies up to this size are read whole before a connection to Dify is taken, so a slow sender holds none.
    buffer_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # Proxied requests in flight from one client address (answers still streaming count); beyond it 429.
    # 0: no limit. Behind a reverse proxy, the address is the one it forwards (`server.trusted_proxies`).
    max_requests_per_client: int = Field(default=32, ge=0)
    # Proxied requests in flight to one instance; beyond it 503, so one busy instance leaves connections to
    # the others. 0: no limit.
    max_requests_per_instance: int = Field(default=100, ge=0)
    # Blocking answers larger than this, and streamed answers with an event larger than this, are forwarded whole
    # but not teed (the rest of a streamed answer from that event on).
    max_tee_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
