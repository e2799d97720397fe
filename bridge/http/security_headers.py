"""Security headers on the bridge's own endpoints, and CORS only when configured.

The proxy's answers are Dify's, byte for byte and header for header, so they are left alone: every other
answer (the OTLP receiver's and a 404 too) gets the headers.
"""

from __future__ import annotations

import re

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.management.settings import ServerConfig

# The proxy's shape, `/{instance}/v1/...`; `/api/v1/...` is the management API's.
_PROXIED = re.compile(r"/[^/]+/v1/")
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    # Answers can hold secrets (a new webhook secret, tokens): no cache keeps them.
    (b"cache-control", b"no-store"),
]
_HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.headers = [*_HEADERS, _HSTS] if https else list(_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or (_PROXIED.match(path) and not path.startswith("/api/")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def middleware(cfg: ServerConfig) -> list[Middleware]:
    """The server's middleware, outermost first: CORS (when origins are configured), security headers."""
    stack = []
    if cfg.cors_allowed_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=cfg.cors_allowed_origins,
                allow_methods=["GET", "POST", "DELETE"],
                allow_headers=[
                    "Authorization",
                    "Content-Type",
                    "X-Dify-App-Id",
                    "X-Pisama-API-Key",
                    "X-Pisama-Signature",
                    "X-Pisama-Timestamp",
                    "X-Pisama-Nonce",
                ],
                max_age=600,
            )
        )
    stack.append(Middleware(SecurityHeaders, https=cfg.tls is not None))
    return stack


def client_address(request: Request) -> str | None:
    """The peer's address, what per-client limits count by."""
    return request.client.host if request.client else None
