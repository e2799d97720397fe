"""Bridge API keys, their scopes, and the signed, expiring access tokens they are exchanged for."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import jwt
from starlette.requests import Request

from bridge.http.credentials import bearer_tokens, one_credential
from bridge.http.errors import ApiError
from bridge.http.security_headers import client_address
from bridge.management.rate_limit import RateLimitConfig, RateLimiter, retry_after
from bridge.management.settings import Scope, ServerConfig

_ALGORITHM = "HS256"
_BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def key_id(api_key: str) -> str:
    """A short, non-reversible name for an API key: what tokens and logs carry instead of the key."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


class Authenticator:
    """Checks API keys (constant time) and their scopes, issues/verifies HS256 tokens, and slows down clients
    that keep failing. Thread-safe, no I/O."""

    def __init__(self, cfg: ServerConfig) -> None:
        scopes = cfg.key_scopes()
        self._keys = [key.encode() for key in scopes]
        # Tokens name the key that asked for them (its id): a key removed from the config ends its tokens.
        self._scopes = {key_id(key): granted for key, granted in scopes.items()}
        self._secret = cfg.token_secret or secrets.token_urlsafe(32)
        self.ttl = int(cfg.token_ttl)
        self._limiter = RateLimiter(cfg.rate_limit)
        per_minute, burst = cfg.rate_limit.failed_attempts_per_minute, cfg.rate_limit.failed_attempts_burst
        self._failures = RateLimiter(RateLimitConfig(requests_per_second=per_minute / 60, burst=burst))

    def _within_limit(self, key: str) -> str:
        wait = self._limiter.take(key)
        if wait is not None:
            raise ApiError(429, "rate_limited", f"more than {self._limiter.rate:g} requests per second with this "
                           "API key; slow down", {"Retry-After": retry_after(wait)})  # fmt: skip
        return key

    def _not_failing(self, client: str | None) -> None:
        """429 for a client whose failed attempts used up its allowance, before its key or token is looked at,
        so guessing goes no faster than `failed_attempts_per_minute`."""
        wait = self._failures.waiting(client or "")
        if wait is not None:
            raise ApiError(429, "too_many_failures", "too many failed attempts from this address; wait",
                           {"Retry-After": retry_after(wait)})  # fmt: skip

    def _failed(self, client: str | None, error: ApiError) -> ApiError:
        self._failures.take(client or "")
        return error

    def _scoped(self, kid: str, scope: Scope) -> str:
        granted = self._scopes[kid]
        if scope not in granted:
            raise ApiError(403, "insufficient_scope", f"this API key may not {scope} (its scopes: "
                           f"{', '.join(sorted(granted))})")  # fmt: skip
        return self._within_limit(kid)

    def check_api_key(self, api_key: str | None, client: str | None, scope: Scope = "ingest") -> str:
        """The key's id, or ApiError 401 (unknown key), 403 (not allowed `scope`) or 429 (over its rate limit,
        or too many failures from `client`, the caller's address)."""
        self._not_failing(client)
        candidate = (api_key or "").encode()
        # Compare against every key so timing says nothing about which one nearly matched.
        matched = [hmac.compare_digest(candidate, key) for key in self._keys]
        if not api_key or not any(matched):
            missing = ApiError(401, "invalid_api_key", "the API key is missing or not one of this bridge's keys")
            raise self._failed(client, missing)
        return self._scoped(key_id(api_key), scope)

    def issue(self, api_key: str, client: str | None, now: float | None = None) -> str:
        """A token for a key with the `manage` scope (tokens are only for the management API)."""
        issued = int(now if now is not None else time.time())
        claims = {"sub": self.check_api_key(api_key, client, "manage"), "iat": issued, "exp": issued + self.ttl}
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str, client: str | None) -> str:
        """The token's subject (an API key id), or ApiError 401 (bad token, or its key is no longer configured),
        403 (its key lost the `manage` scope) or 429 (over the key's limit, or too many failures)."""
        self._not_failing(client)
        try:
            claims = jwt.decode(token, self._secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "token_expired", "the access token has expired", _BEARER_CHALLENGE) from None
        except jwt.InvalidTokenError:
            invalid = ApiError(401, "invalid_token", "the access token is not valid", _BEARER_CHALLENGE)
            raise self._failed(client, invalid) from None
        if claims["sub"] not in self._scopes:
            raise ApiError(401, "invalid_token", "the API key this token was issued for is no longer accepted",
                           _BEARER_CHALLENGE)  # fmt: skip
        return self._scoped(str(claims["sub"]), "manage")

    def require_bearer(self, request: Request) -> str:
        token = one_credential(bearer_tokens(request.headers.getlist("authorization")), "Authorization: Bearer")
        if token is None:
            # Where a token comes from, said: /openapi.json is behind it too, and a newcomer tries that first.
            detail = 'send Authorization: Bearer <access_token>, from POST /api/v1/auth/token {"api_key": "<key>"}'
            raise ApiError(401, "missing_token", detail, _BEARER_CHALLENGE)
        return self.verify(token, client_address(request))
