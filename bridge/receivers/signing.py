"""Signed deliveries: `X-Pisama-Signature: sha256=<hex HMAC-SHA256(app secret, "{timestamp}.{raw body}")>`.

The same scheme Pisama uses for n8n, so a Dify HTTP-request node or a client configured for Pisama works
unchanged. Checks run in constant time; no answer says which part of a signature was wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import TYPE_CHECKING

from starlette.requests import Request

from bridge.http_errors import ApiError
from bridge.receivers import ReceiverContext

if TYPE_CHECKING:  # the store imports cryptography: `replay` reads the config, which imports every receiver
    from bridge.management.store import App


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value a sender computes; used by tests and examples."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def check_headers(request: Request, ctx: ReceiverContext, now: float | None = None) -> int:
    """API key, and a timestamp inside the tolerance: what can be checked before the body. Returns the timestamp."""
    ctx.auth.check_api_key(request.headers.get("x-pisama-api-key"))
    raw = request.headers.get("x-pisama-timestamp", "")
    if not raw.strip().lstrip("-").isdigit():
        raise ApiError(401, "invalid_signature", "X-Pisama-Timestamp must be Unix seconds")
    timestamp = int(raw)
    if abs((now if now is not None else time.time()) - timestamp) > ctx.timestamp_tolerance:
        raise ApiError(401, "signature_expired", f"the timestamp is more than {ctx.timestamp_tolerance:g}s away")
    if not request.headers.get("x-pisama-signature", "").startswith("sha256="):
        raise ApiError(401, "invalid_signature", "X-Pisama-Signature must be sha256=<hex>")
    return timestamp


def verify(request: Request, ctx: ReceiverContext, app_id: str, timestamp: int, body: bytes) -> App:
    """The app whose secret signed `body`, after the single-use nonce (if any) is spent."""
    app = ctx.store.app(app_id)
    if app is None:
        raise ApiError(404, "unknown_app", f"app {app_id!r} is not registered")
    expected = sign(ctx.store.webhook_secret(app), timestamp, body)
    if not hmac.compare_digest(expected.encode(), request.headers.get("x-pisama-signature", "").encode()):
        raise ApiError(401, "invalid_signature", "the signature does not match the body and the app's secret")
    nonce = request.headers.get("x-pisama-nonce")
    if nonce is not None:
        now = time.time()
        if not ctx.store.use_nonce(f"{app.id}:{nonce}", timestamp + ctx.timestamp_tolerance, now):
            raise ApiError(401, "replayed_nonce", "this X-Pisama-Nonce was already used")
    return app
