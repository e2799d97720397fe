"""The `server` section of the config file: HTTP endpoint, API keys, tokens, store, declared registrations."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bridge.config.durations import Duration
from bridge.dify.values import id_fault
from bridge.management.outbound import OutboundConfig, OutboundPolicy, OutboundRefused
from bridge.management.rate_limit import RateLimitConfig

# What a bridge API key may do: `ingest` sends runs (webhook, stream, OTLP), `manage` gets access tokens for the
# management API, the audit log, the live view and the OpenAPI schema.
Scope = Literal["ingest", "manage"]
SCOPES: tuple[Scope, ...] = ("ingest", "manage")
# A bridge API key shorter than this, or with fewer distinct characters, is refused at load: guessable.
MIN_KEY_LENGTH = 16
MIN_KEY_DISTINCT_CHARACTERS = 8


# C0, DEL and C1 (U+009B opens an escape sequence as ESC [ does); the line and paragraph separators (a line break
# to some log viewers); the direction embeddings, overrides and isolates (they reorder what is shown after them).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _one_line(what: str) -> Callable[[str], str]:
    # An app id is sent as the X-Dify-App-Id header, both are written to logs and the audit log (a newline could
    # forge a line) and an app name names spans: an ESC there colours or hides text in the terminals reading them.
    def check(value: str) -> str:
        if found := _CONTROL.search(value):
            raise ValueError(f"control character {found.group()!r} at {found.start()}: {what} is one line of text")
        return value

    return check


def _app_id(value: str) -> str:
    # It names every run of the app (`dify.app.id`), as ids in payloads do: the same rule (`id_fault`).
    if fault := id_fault(value):
        raise ValueError(f"an app id must be {fault}")
    return value


# Dify's app id as registered: a UUID, or any id of up to 128 printable characters.
AppId = Annotated[str, Field(min_length=1), AfterValidator(_app_id)]
# The name a registration gives an app's traces (root span, `dify.app.name`): up to 500 characters, no control
# characters.
AppName = Annotated[str, Field(max_length=500), AfterValidator(_one_line("an app name"))]

# An instance name is a URL path segment of the proxy (`/{instance}/v1/...`); `api` is the bridge's own.
_INSTANCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def _instance_name(value: str) -> str:
    # In words: the pattern itself ("should match pattern '^(?!api$)...'") told a user nothing.
    if value == "api":
        raise ValueError("'api' is the bridge's own path (/api/...): choose another name")
    if not _INSTANCE_NAME.fullmatch(value):
        raise ValueError(
            "a name is 1 to 100 characters: letters, digits, '.', '_' and '-', the first a letter or digit"
            f" (it is the proxy's path segment /{{name}}/v1/...), got {value[:120]!r}"
        )
    return value


InstanceName = Annotated[str, AfterValidator(_instance_name)]

# Dify's are `app-` and 24 letters and digits; 1,000 leaves room for any other scheme. It is sent as a header:
# httpx refused one with a line break at every poll, in an error message that held the key, and the poller logged it.
_NOT_IN_A_KEY = re.compile(r"[^\x21-\x7e]")
DIFY_KEY_MAX = 1000


def _dify_api_key(value: str) -> str:
    found = _NOT_IN_A_KEY.search(value)
    if found or not 1 <= len(value) <= DIFY_KEY_MAX:
        what = f"U+{ord(found.group()):04X} at position {found.start()}" if found else f"{len(value)} characters"
        raise ValueError(
            f"a Dify API key is 1 to {DIFY_KEY_MAX} visible ASCII characters (no space, line break or other control"
            f" character); this one has {what} (the key is not shown)"
        )
    return value


DifyApiKey = Annotated[str, AfterValidator(_dify_api_key)]


def _webhook_secret(value: str) -> str:
    # A secret file's newline was kept, and no sender's signature matched it: every request 401.
    if found := re.search(r"[\x00-\x1f\x7f]", value):
        raise ValueError(f"holds U+{ord(found.group()):04X} at position {found.start()}: a webhook secret holds no "
                         "control character (a secret file's line break?); the secret is not shown")  # fmt: skip
    return value


# In the config file, "" is no key (`${env:DIFY_API_KEY:-}` left unset): not polled.
_ConfigDifyApiKey = Annotated[DifyApiKey | None, BeforeValidator(lambda value: None if value == "" else value)]
_WebhookSecret = Annotated[str, Field(min_length=16), AfterValidator(_webhook_secret)]
# Dify's app modes (its `mode` field): a typo is refused at load or registration, not kept as an unknown type.
AppType = Literal["workflow", "advanced-chat", "chat", "agent-chat", "completion"]
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
    model_config = ConfigDict(extra="forbid")

    name: InstanceName  # the proxy's path segment: `/{name}/v1/...`
    base_url: str = Field(pattern=r"^https?://")  # Dify's API, e.g. http://api:5001 (where `outbound` allows)
    api_key: _ConfigDifyApiKey = None  # a Dify app API key (`app-...`), for the poller; None: not polled


class ApiKeySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str  # the key itself (at least 16 characters, 8 of them different)
    scopes: list[Scope] = Field(default_factory=lambda: list(SCOPES), min_length=1)  # what the key may do


class AppSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instance: str = Field(min_length=1)  # the `name` of a declared or registered instance
    app_id: AppId  # Dify's app id (X-Dify-App-Id of signed requests)
    app_name: AppName | None = None  # names the app's traces (root span, `dify.app.name`)
    app_type: AppType = "workflow"  # Dify's app mode; the poller sees only workflow apps' runs
    webhook_secret: _WebhookSecret  # declared apps bring their own secret (it is never shown)
    # The app's Dify API key (`app-...`): the poller polls the app with it, named and tagged as this app.
    # None: the app is polled only through its instance's key, if that is the app's.
    api_key: _ConfigDifyApiKey = None


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
    # A plain string is a key with every scope (as before scopes); `{key: ..., scopes: [ingest]}` limits one.
    # Empty: the management API and the signed receivers refuse everyone.
    api_keys: list[ApiKeySpec | str] = Field(default_factory=list)
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
    # A request's headers not complete within this long of the connection (or of the first byte of the next
    # request on a kept-alive one) get 408 and the connection is closed: slow senders hold no socket for long.
    header_timeout: Duration = Field(default=10.0, gt=0)
    # Also take Pisama's signatures (over "{timestamp}.{body}", X-Pisama-Nonce absent or not signed) while
    # senders move to the signed nonce; each such signature is taken once. false: a signed nonce is required.
    legacy_signatures: bool = False
    # A request body not complete within this long after its headers gets 408 (a slow sender holds no
    # worker or memory for longer). Proxied bodies have the proxy's own `body_timeout`.
    body_timeout: Duration = Field(default=30.0, gt=0)
    # The live SSE feed sends a comment this often when nothing happens, so proxies keep it open.
    live_heartbeat: Duration = 15.0
    # At most this many live-feed subscribers at once (each holds a connection and up to 1,000 queued events);
    # one more gets 503 with Retry-After.
    live_max_subscribers: int = Field(default=32, gt=0)
    # Dify instances and apps declared here merge with API registrations at start (declared ones cannot be
    # deleted through the API).
    instances: list[InstanceSpec] = Field(default_factory=list)
    apps: list[AppSpec] = Field(default_factory=list)
    # HTTPS, and optionally client certificates (mTLS) for everything the server serves. None: plain HTTP.
    tls: ServerTLS | None = None
    # Where instance base URLs may point (the proxy's and the poller's connections).
    outbound: OutboundConfig = Field(default_factory=OutboundConfig)
    # Per bridge API key, over the signed receivers and the management API: beyond it, 429 + Retry-After.
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    # Browser origins allowed to call the API (CORS), e.g. a dashboard showing the live view. Empty: none.
    cors_allowed_origins: list[str] = Field(default_factory=list)
    # Reverse proxies in front of the bridge whose X-Forwarded-For/-Proto it believes: addresses or networks
    # ("10.0.0.0/8"). Empty: none; a client is the address that connected, so a client on the bridge's own host
    # cannot spread the per-address limits or forge the audit log's address by claiming others.
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/8)") from None
        return proxies

    @field_validator("store")
    @classmethod
    def _openable(cls, value: str) -> str:
        if "\0" in value:  # validated, then `serve` stopped with a traceback opening it
            raise ValueError("must not hold a NUL character")
        return value

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
    def _strong_keys(cls, value: list[ApiKeySpec | str]) -> list[ApiKeySpec | str]:
        # `${env:BRIDGE_API_KEY:-}` left unset expands to "", as a plain string or a `key:`: no key, rather
        # than an empty key (and no second error beside the loader's for a variable without a default).
        keys = [spec for spec in value if (spec if isinstance(spec, str) else spec.key) != ""]
        for position, spec in enumerate(value):  # the position in the file, empty items counted
            key = spec if isinstance(spec, str) else spec.key
            if key == "":
                continue
            # The position, never the key: this message reaches logs and terminals.
            if found := _NOT_IN_A_KEY.search(key):  # e.g. a key file's newline: no header carries it, every 401
                raise ValueError(f'"api_keys"[{position}] holds U+{ord(found.group()):04X} at position '
                                 f"{found.start()}: a key is visible ASCII characters, as a header carries them "
                                 "(the key is not shown)")  # fmt: skip
            if len(key) < MIN_KEY_LENGTH or len(set(key)) < MIN_KEY_DISTINCT_CHARACTERS:
                raise ValueError(f'"api_keys"[{position}] is too easy to guess: use at least {MIN_KEY_LENGTH} '
                                 f"characters, {MIN_KEY_DISTINCT_CHARACTERS} of them different "
                                 "(e.g. `openssl rand -hex 24`)")  # fmt: skip
        return keys

    @field_validator("instances", "apps")
    @classmethod
    def _declared_once(cls, value: list[InstanceSpec] | list[AppSpec]) -> list[InstanceSpec] | list[AppSpec]:
        # The store keeps one instance per name and one app per app id: a second entry silently replaced the
        # first (another base URL, another secret) at start.
        first: dict[str, int] = {}
        specs: list[InstanceSpec | AppSpec] = list(value)
        for position, spec in enumerate(specs):
            key, name = (spec.app_id, "app_id") if isinstance(spec, AppSpec) else (spec.name, "name")
            if key in first:
                raise ValueError(f"[{position}].{name}: {key!r} is declared already, at [{first[key]}]")
            first[key] = position
        # A signature names no app (Pisama's and Dify's senders sign "{timestamp}.{nonce}.{body}"): two apps
        # with one secret could have one's request replayed as the other's. The positions, never the secret.
        secrets: dict[str, int] = {}
        for position, spec in enumerate(specs):
            if isinstance(spec, AppSpec):
                if spec.webhook_secret in secrets:
                    raise ValueError(f"[{position}].webhook_secret: the same as [{secrets[spec.webhook_secret]}]'s; "
                                     "give each app its own (e.g. `openssl rand -hex 24`)")  # fmt: skip
                secrets[spec.webhook_secret] = position
        return value

    def key_scopes(self) -> dict[str, frozenset[Scope]]:
        """Each API key and what it may do."""
        specs = [ApiKeySpec(key=spec) if isinstance(spec, str) else spec for spec in self.api_keys]
        return {spec.key: frozenset(spec.scopes) for spec in specs}

    @model_validator(mode="after")
    def _instances_within_policy(self) -> Self:
        policy = OutboundPolicy(self.outbound)
        for position, instance in enumerate(self.instances):
            try:
                policy.check_base_url(instance.base_url)
            except OutboundRefused as refused:
                raise ValueError(f'"instances"[{position}].base_url: {refused}') from None
        return self

    @field_validator("endpoint")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError('"endpoint" must be host:port, e.g. 127.0.0.1:8000')
        return value
