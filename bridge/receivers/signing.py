"""Signed deliveries: `X-Pisama-Signature: sha256=<hex HMAC-SHA256(app secret, "{timestamp}.{nonce}.{raw body}")>`
with the nonce sent as `X-Pisama-Nonce`, single-use.

Pisama's scheme (which n8n and Dify HTTP-request nodes set up for Pisama use) signs `"{timestamp}.{raw body}"`
and leaves its optional nonce unsigned, so a captured request could be sent again under a new nonce or none.
Here the nonce is signed and required; `server.legacy_signatures` takes Pisama's signatures too while senders
move over, each one once (the signature is then what cannot be spent twice). Checks run in constant time;
no answer says which part of a signature was wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from bridge.http.credentials import one_credential
from bridge.http.errors import ApiError, clip
from bridge.http.security_headers import client_address
from bridge.receivers import ReceiverContext

if TYPE_CHECKING:  # the store imports cryptography: `replay` reads the config, which imports every receiver
    from bridge.management.store import App

# Unix seconds, ASCII digits only (`str.isdigit` also takes "²"), few enough for a float.
_TIMESTAMP = re.compile(r"-?[0-9]{1,12}")
# No dot: the signed text is cut at dots, so a nonce holding one could move bytes between itself and the body.
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,128}")
NONCE_FORMAT = "16 to 128 characters of A-Z, a-z, 0-9, '_' and '-' (a UUID or 16 random bytes in hex)"


def sign(secret: str, timestamp: int, nonce: str | None, body: bytes) -> str:
    """The header value a sender computes (None: Pisama's scheme, without the nonce); used by tests and examples."""
    signed = f"{timestamp}." if nonce is None else f"{timestamp}.{nonce}."
    digest = hmac.new(secret.encode(), signed.encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def app_id_header(request: Request) -> str | None:
    """The app a signed request names in `X-Dify-App-Id`, or None. Two different ones are a 422: the bridge read
    the first, a proxy or log in front of it may read the last."""
    named = {value for value in request.headers.getlist("x-dify-app-id") if value}
    if len(named) > 1:
        raise ApiError(422, "invalid_payload", f"X-Dify-App-Id: {len(named)} different values; send one")
    return next(iter(named), None)


@dataclass(frozen=True, slots=True)
class SignatureHeaders:
    timestamp: int
    nonce: str | None  # None only where legacy signatures are taken
    signature: str


def check_headers(request: Request, ctx: ReceiverContext, now: float | None = None) -> SignatureHeaders:
    """API key, a timestamp inside the tolerance, the nonce's form: what can be checked before the body."""
    api_key = one_credential(request.headers.getlist("x-pisama-api-key"), "X-Pisama-API-Key")
    ctx.auth.check_api_key(api_key, client_address(request))
    raw = request.headers.get("x-pisama-timestamp", "").strip()
    if not _TIMESTAMP.fullmatch(raw):
        raise ApiError(401, "invalid_signature", "X-Pisama-Timestamp must be Unix seconds (ASCII digits)")
    timestamp = int(raw)
    if abs((now if now is not None else time.time()) - timestamp) > ctx.timestamp_tolerance:
        raise ApiError(401, "signature_expired", f"the timestamp is more than {ctx.timestamp_tolerance:g}s away")
    signature = request.headers.get("x-pisama-signature", "")
    if not signature.startswith("sha256="):
        raise ApiError(401, "invalid_signature", "X-Pisama-Signature must be sha256=<hex>")
    nonce = request.headers.get("x-pisama-nonce")
    if nonce is not None and not _NONCE.fullmatch(nonce):
        if not ctx.legacy_signatures:
            raise ApiError(401, "invalid_nonce", f"X-Pisama-Nonce must be {NONCE_FORMAT}")
        nonce = None  # a Pisama sender's own nonce, unsigned: only a legacy signature can match
    if nonce is None and not ctx.legacy_signatures:
        raise ApiError(401, "invalid_nonce", f"X-Pisama-Nonce is required ({NONCE_FORMAT}), and signed")
    return SignatureHeaders(timestamp, nonce, signature)


@contextmanager
def signed_by(
    request: Request, ctx: ReceiverContext, app_id: str, headers: SignatureHeaders, body: bytes
) -> Iterator[App]:
    """The app whose secret signed `body`, its nonce spent. If the block raises, the request was not taken
    (refused, or 429/503: "send it again later"), so its nonce is given back and the same request may come again."""
    app = ctx.store.app(app_id)
    if app is None:
        # Said with the fix: a newcomer signing examples/runs/webhook_full.json met this with its app_id, and a
        # registration answers with two ids, its own `id` and the `app_id` requests name.
        registration = ctx.store.app_by_id(app_id)
        if registration is not None:
            detail = f"that is a registration's id: name its app_id, {registration.app_id!r}"
        else:
            detail = "register an app with this app_id (POST /api/v1/dify/apps or server.apps), sign with its secret"
        raise ApiError(404, "unknown_app", f"app {clip(app_id)!r} is not registered: {detail}")
    secret = ctx.store.webhook_secret(app)
    sent = headers.signature.encode()
    nonce = headers.nonce
    if nonce is not None and hmac.compare_digest(sign(secret, headers.timestamp, nonce, body).encode(), sent):
        spent = f"{app.id}:{nonce}"
    elif ctx.legacy_signatures and hmac.compare_digest(sign(secret, headers.timestamp, None, body).encode(), sent):
        spent = f"{app.id}:{headers.signature}"  # Pisama's scheme: the signature is what is single-use
    else:
        raise ApiError(401, "invalid_signature", "the signature does not match the body, nonce and the app's secret")
    if (other := ctx.store.secret_shared_with(app.app_id)) is not None:
        # Told only to a holder of the secret: the signature checked.
        detail = (
            f"app {app.app_id!r}'s webhook secret is also app {other!r}'s (stored by an older bridge), so a"
            f" signature cannot tell them apart: rotate it (POST /api/v1/dify/apps/{app.id}/rotate-secret)"
        )
        raise ApiError(403, "shared_webhook_secret", detail)
    if not ctx.nonces.spend(spent, headers.timestamp + ctx.timestamp_tolerance, time.time()):
        raise ApiError(409, "replayed_request", "this request (its X-Pisama-Nonce) was already taken")
    try:
        yield app
    except BaseException:
        ctx.nonces.give_back(spent)
        raise
