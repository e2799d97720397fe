"""The `server` section of the config file: HTTP endpoint, API keys, tokens, store, declared registrations."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.durations import Duration
from bridge.management.rate_limit import RateLimitConfig

# An instance name is a URL path segment of the proxy (`/{instance}/v1/...`); `api` is the bridge's own.
INSTANCE_NAME = r"^(?!api$)[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


# The app types whose runs Dify's service API lists (`GET /v1/workflows/logs`); the poller sees no other.
POLLED_APP_TYPES = frozenset({"workflow"})


def unpolled_warning(app_type: str) -> str:
    """Why the poller gets nothing for an app of this type, and what to use instead."""
    return (
        f"the poller cannot see runs of {app_type} apps: Dify's /v1/workflows/logs lists workflow runs only, and "
        "its service API leads from no message to its run; use the otlp receiver (Dify's tracing settings), "
        "the proxy or the stream receiver for this app"
    )


class InstanceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")  # INSTANCE_NAME needs a lookahead

    name: str = Field(pattern=INSTANCE_NAME)  # the proxy's path segment: `/{name}/v1/...`
    base_url: str = Field(pattern=r"^https?://")  # Dify's API, e.g. http://api:5001
    api_key: str | None = None  # a Dify app API key (`app-...`), for the poller; None: not polled


class AppSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instance: str = Field(min_length=1)  # the `name` of a declared or registered instance
    app_id: str = Field(min_length=1)  # Dify's app id (X-Dify-App-Id of signed requests)
    app_name: str | None = None  # names the app's traces (root span, `dify.app.name`)
    app_type: str = "workflow"  # workflow, advanced-chat, chat, agent-chat or completion
    webhook_secret: str = Field(min_length=16)  # declared apps bring their own secret (it is never shown)
    # The app's Dify API key (`app-...`): the poller polls the app with it, named and tagged as this app.
    # None: the app is polled only through its instance's key, if that is the app's.
    api_key: str | None = None


class ServerTLS(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The server's certificate chain and key (PEM). Set: the server speaks HTTPS only.
    cert_file: str
    key_file: str
    # CA bundle (PEM) that client certificates must chain to. Set: every client needs one (mTLS).
    client_ca_file: str | None = None

    @field_validator("cert_file", "key_file", "client_ca_file")
    @classmethod
    def _readable(cls, value: str | None) -> str | None:
        if value is not None and not os.path.isfile(value):
            raise ValueError(f"{value}: no such file")
        return value


class ServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Where `serve` listens, host:port.
    endpoint: str = "127.0.0.1:8000"
    # Bridge API keys: exchanged for tokens at /api/v1/auth/token and sent as X-Pisama-API-Key by webhooks.
    # Empty: the management API and the signed receivers refuse everyone.
    api_keys: list[str] = Field(default_factory=list)
    # Key that signs access tokens. None: a random key per start (tokens then die with the process).
    token_secret: str | None = None
    # Lifetime of an access token.
    token_ttl: Duration = 3600.0
    # SQLite file holding registrations, nonces and accepted run ids. ":memory:" keeps nothing.
    store: str = "dify-otel-bridge.db"
    # Fernet key (urlsafe base64, 32 bytes) encrypting Dify API keys and webhook secrets at rest.
    # None: a key file `<store>.key` beside the store, created with mode 0600 on first start.
    encryption_key: str | None = None
    # Webhook signatures older or newer than this are refused.
    timestamp_tolerance: Duration = 300.0
    # A request body not complete within this long after its headers gets 408 (a slow sender holds no
    # worker or memory for longer). Proxied uploads stream to Dify and are bounded by Dify's own limits.
    body_timeout: Duration = Field(default=30.0, gt=0)
    # The live SSE feed sends a comment this often when nothing happens, so proxies keep it open.
    live_heartbeat: Duration = 15.0
    # Dify instances and apps declared here merge with API registrations at start (declared ones cannot be
    # deleted through the API).
    instances: list[InstanceSpec] = Field(default_factory=list)
    apps: list[AppSpec] = Field(default_factory=list)
    # HTTPS, and optionally client certificates (mTLS) for everything the server serves. None: plain HTTP.
    tls: ServerTLS | None = None
    # Per bridge API key, over the signed receivers and the management API: beyond it, 429 + Retry-After.
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    # Browser origins allowed to call the API (CORS), e.g. a dashboard showing the live view. Empty: none.
    cors_allowed_origins: list[str] = Field(default_factory=list)

    @field_validator("token_secret")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        if not value:
            return None  # `${env:BRIDGE_TOKEN_SECRET:-}` left unset: a random key per start
        if len(value) < 32:
            raise ValueError('"token_secret" must be at least 32 characters (HS256 wants a 256-bit key)')
        return value

    @field_validator("api_keys")
    @classmethod
    def _drop_empty(cls, value: list[str]) -> list[str]:
        # `${env:BRIDGE_API_KEY:-}` left unset expands to "": no key, rather than an empty key.
        return [key for key in value if key]

    @field_validator("endpoint")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError('"endpoint" must be host:port, e.g. 127.0.0.1:8000')
        return value
