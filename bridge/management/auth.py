"""Bridge API keys and the signed, expiring access tokens they are exchanged for."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import jwt
from starlette.requests import Request

from bridge.http_errors import ApiError
from bridge.management.rate_limit import RateLimiter, retry_after
from bridge.management.settings import ServerConfig

_ALGORITHM = "HS256"
_BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def key_id(api_key: str) -> str:
    """A short, non-reversible name for an API key: what tokens and logs carry instead of the key."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


class Authenticator:
    """Checks API keys (constant time) and issues/verifies HS256 tokens. Thread-safe, no I/O."""

    def __init__(self, cfg: ServerConfig) -> None:
        self._keys = [key.encode() for key in cfg.api_keys]
        self._secret = cfg.token_secret or secrets.token_urlsafe(32)
        self.ttl = int(cfg.token_ttl)
        self._limiter = RateLimiter(cfg.rate_limit)

    def _within_limit(self, key: str) -> str:
        wait = self._limiter.take(key)
        if wait is not None:
            raise ApiError(429, "rate_limited", f"more than {self._limiter.rate:g} requests per second with this "
                           "API key; slow down", {"Retry-After": retry_after(wait)})  # fmt: skip
        return key

    def check_api_key(self, api_key: str | None) -> str:
        """The key's id, or ApiError 401 (unknown key) or 429 (over its rate limit)."""
        candidate = (api_key or "").encode()
        # Compare against every key so timing says nothing about which one nearly matched.
        matched = [hmac.compare_digest(candidate, key) for key in self._keys]
        if not api_key or not any(matched):
            raise ApiError(401, "invalid_api_key", "the API key is missing or not one of this bridge's keys")
        return self._within_limit(key_id(api_key))

    def issue(self, api_key: str, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {"sub": self.check_api_key(api_key), "iat": issued, "exp": issued + self.ttl}
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str) -> str:
        """The token's subject (an API key id), or ApiError 401 (bad token) or 429 (over the key's limit)."""
        try:
            claims = jwt.decode(token, self._secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "token_expired", "the access token has expired", _BEARER_CHALLENGE) from None
        except jwt.InvalidTokenError:
            raise ApiError(401, "invalid_token", "the access token is not valid", _BEARER_CHALLENGE) from None
        return self._within_limit(str(claims["sub"]))

    def require_bearer(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "missing_token", "send Authorization: Bearer <access_token>", _BEARER_CHALLENGE)
        return self.verify(token.strip())
