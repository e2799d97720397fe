"""`webhook`: whole-run payloads POSTed by Dify (an HTTP-request node) or any client, HMAC-signed."""

from __future__ import annotations

from msgspec.structs import replace
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridge.dify.formats import InputError
from bridge.dify.webhook_payload import WebhookPayload, decode_webhook, normalize_webhook
from bridge.http.body import invalid_payload, parse_json, read_body, require_media_type
from bridge.http.errors import ApiError, clip
from bridge.receivers import ReceiverContext
from bridge.receivers.config.webhook import Config as Config
from bridge.receivers.signing import app_id_header, check_headers, signed_by

TYPE = "webhook"


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def create(cfg: Config, ctx: ReceiverContext) -> list[Route]:
    """One route. Answers 202 once the run's spans are in the queue file; errors are `{error, detail}` JSON."""

    async def receive(request: Request) -> JSONResponse:
        """
        summary: Receive one whole Dify run (Pisama webhook payload), HMAC-signed
        tags: [receivers]
        parameters:
          - {name: X-Dify-App-Id, in: header, required: false, schema: {type: string}}
          - {name: X-Pisama-API-Key, in: header, required: true, schema: {type: string}}
          - {name: X-Pisama-Signature, in: header, required: true, schema: {type: string}}
          - {name: X-Pisama-Timestamp, in: header, required: true, schema: {type: integer}}
          - {name: X-Pisama-Nonce, in: header, required: true, schema: {type: string}}
        requestBody: {content: {application/json: {schema: {type: object}}}}
        responses:
          202: {description: "accepted: {accepted: true, run_id, trace_id}"}
          200: {description: "this run id was already accepted: {duplicate: true}"}
          400: {description: malformed JSON}
          401: {description: "bad or missing API key, signature or nonce, expired timestamp"}
          403: {description: "the app's webhook secret is another app's too (stored by an older bridge): rotate it"}
          404: {description: unknown app}
          409: {description: "a replay: this nonce (or legacy signature) was already taken"}
          413: {description: body too large}
          415: {description: "not application/json, or not in UTF-8 (UTF-16, UTF-32)"}
          422: {description: "a field of the payload is invalid, or its app_id is not the signing app's"}
          429: {description: "the API key is over its rate limit (Retry-After)"}
          503: {description: "the queue is full or cannot be written (Retry-After): nothing was taken"}
        """
        require_media_type(request, ["application/json"])
        # Key, timestamp and nonce before the body: a client without a key was read up to max_body_bytes and
        # held for body_timeout before its 401.
        headers = check_headers(request, ctx)
        body = await read_body(request, cfg.max_body_bytes)
        payload = decode_webhook(body) or parse_json(body)
        if not isinstance(payload, WebhookPayload | dict):  # was "app_id: Field required" for an array
            raise ApiError(422, "invalid_payload", f"body: a JSON object (one whole run), got {_json_type(payload)}")
        claimed = payload.app_id if isinstance(payload, WebhookPayload) else payload.get("app_id")
        app_id = app_id_header(request) or claimed
        if not isinstance(app_id, str) or not app_id:
            raise ApiError(422, "invalid_payload", "app_id: Field required (in the body or X-Dify-App-Id)")
        with signed_by(request, ctx, app_id, headers, body) as app:
            # The signing app's secret speaks for that app only: a body naming another is refused, not filed there.
            if claimed not in (None, "") and str(claimed) != app.app_id:
                detail = f"app_id: the body says {clip(str(claimed))!r}, the request is signed for {app.app_id!r}"
                raise ApiError(422, "app_mismatch", detail)
            try:
                run = normalize_webhook(payload)
            except InputError as exc:
                raise invalid_payload([(exc.field, exc.reason), *exc.others]) from None
            service = ctx.service(request)
            service.admit_run(ctx.receiver_id)
            run = replace(run, receiver=ctx.receiver_id, app_id=app.app_id, app_name=app.app_name or run.app_name)
            # Accepting the run id and queueing its spans is one transaction: a retry after any failure is
            # taken, a retry after success is a duplicate.
            if await service.submit_new_run_async(run) is None:
                return JSONResponse({"duplicate": True, "run_id": run.run_id}, status_code=200)
        return JSONResponse({"accepted": True, "run_id": run.run_id}, status_code=202)

    return [Route(cfg.path, receive, methods=["POST"])]
