"""Routes of the management API: tokens, Dify instances, Dify apps (Pisama-compatible paths)."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridge.http.body import read_model
from bridge.http.errors import ApiError, clip
from bridge.http.query import query_param, require_known
from bridge.http.security_headers import client_address
from bridge.management.auth import Authenticator
from bridge.management.outbound import OutboundPolicy, OutboundRefused, without_password
from bridge.management.settings import (
    POLLED_APP_TYPES,
    AppId,
    AppName,
    AppType,
    DifyApiKey,
    InstanceName,
    unpolled_warning,
)
from bridge.management.store import App, RegistrationsFull, Store


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_key: str


class InstanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: InstanceName
    base_url: str = Field(pattern=r"^https?://[^\s/]+", max_length=2000)
    api_key: DifyApiKey | None = None


class AppRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instance_id: str
    app_id: AppId
    app_name: AppName | None = None
    app_type: AppType = "workflow"
    api_key: DifyApiKey | None = None


def management_routes(store: Store, auth: Authenticator, outbound: OutboundPolicy) -> list[Route]:
    """The routes; each endpoint's docstring holds its OpenAPI description."""

    async def token(request: Request) -> JSONResponse:
        """
        summary: Exchange a bridge API key for an access token
        tags: [auth]
        requestBody: {content: {application/json: {schema: {type: object, required: [api_key],
          properties: {api_key: {type: string}}}}}}
        responses:
          200: {description: "{access_token, token_type: bearer, expires_in}"}
          401: {description: "unknown API key"}
        """
        body = await read_model(request, TokenRequest)
        return JSONResponse({"access_token": auth.issue(body.api_key, client_address(request)), "token_type": "bearer",
                             "expires_in": auth.ttl})  # fmt: skip

    async def instances(request: Request) -> JSONResponse:
        """
        get:
          summary: List registered Dify instances (never their API keys)
          tags: [dify]
          security: [{bearer: []}]
          responses: {200: {description: "[{id, name, base_url, has_api_key, origin, created_at}]"}}
        post:
          summary: Register a Dify instance
          tags: [dify]
          security: [{bearer: []}]
          requestBody: {content: {application/json: {schema: {type: object, required: [name, base_url],
            properties: {name: {type: string}, base_url: {type: string}, api_key: {type: string}}}}}}
          responses:
            201: {description: "the instance, without its API key"}
            409: {description: "an instance with this name exists, or 1,000 are registered (delete one first)"}
            422: {description: "a field is invalid"}
        """
        actor = auth.require_bearer(request)
        if request.method == "GET":
            return JSONResponse(
                [{**asdict(i), "base_url": without_password(i.base_url)} for i in store.list_instances()]
            )
        body = await read_model(request, InstanceRequest)
        try:
            outbound.check_base_url(body.base_url)
        except OutboundRefused as refused:
            raise ApiError(422, "invalid_payload", f"base_url: {refused}") from None
        try:
            instance = store.add_instance(body.name, body.base_url, body.api_key)
        except sqlite3.IntegrityError:
            raise ApiError(409, "conflict", f"an instance named {clip(body.name)!r} is already registered") from None
        except RegistrationsFull as full:
            raise ApiError(409, "too_many_registrations", str(full)) from None
        _audit(request, actor, "instance.register", f"instance {instance.name} ({instance.id}) {instance.base_url}")
        return JSONResponse(asdict(instance), status_code=201)

    async def apps(request: Request) -> JSONResponse:
        """
        get:
          summary: List registered apps (never their webhook secrets)
          tags: [dify]
          security: [{bearer: []}]
          responses: {200: {description: "[{id, instance_id, app_id, app_name, app_type, origin, created_at,
            has_api_key}]"}}
        post:
          summary: Register a Dify app; the response shows its webhook_secret, once
          tags: [dify]
          security: [{bearer: []}]
          requestBody: {content: {application/json: {schema: {type: object, required: [instance_id, app_id],
            properties: {instance_id: {type: string}, app_id: {type: string}, app_name: {type: string},
            app_type: {type: string, enum: [workflow, advanced-chat, chat, agent-chat, completion]},
            api_key: {type: string}}}}}}
          responses:
            201: {description: "the app and its webhook_secret (and a warning when the poller cannot see its runs)"}
            404: {description: "unknown instance"}
            409: {description: "the app is already registered, or 10,000 apps are (delete one first)"}
        """
        actor = auth.require_bearer(request)
        if request.method == "GET":
            return JSONResponse([asdict(a) for a in store.list_apps()])
        body = await read_model(request, AppRequest)
        if store.instance(body.instance_id) is None:
            raise ApiError(404, "unknown_instance", f"no instance with id {clip(body.instance_id)!r}")
        try:
            app, secret = store.add_app(
                body.instance_id, body.app_id, body.app_name, body.app_type, api_key=body.api_key
            )
        except sqlite3.IntegrityError:
            raise ApiError(409, "conflict", f"app {clip(body.app_id)!r} is already registered") from None
        except RegistrationsFull as full:
            raise ApiError(409, "too_many_registrations", str(full)) from None
        _audit(request, actor, "app.register", f"app {app.app_id} ({app.id}) on instance {app.instance_id}")
        answer = {**asdict(app), "webhook_secret": secret}
        if body.api_key and body.app_type not in POLLED_APP_TYPES:
            answer["warning"] = unpolled_warning(body.app_type)
        return JSONResponse(answer, status_code=201)

    async def rotate(request: Request) -> JSONResponse:
        """
        summary: Issue a new webhook secret for an app (the old one stops working at once)
        tags: [dify]
        security: [{bearer: []}]
        parameters: [{name: id, in: path, required: true, schema: {type: string}}]
        responses:
          200: {description: "{id, app_id, webhook_secret}"}
          404: {description: "unknown app"}
          409: {description: "it is declared in the config file (change webhook_secret there)"}
        """
        actor = auth.require_bearer(request)
        app = _registered_app(request)
        _not_declared(app.origin)  # the next start would put the file's secret back
        secret = store.rotate_secret(app)
        _audit(request, actor, "app.rotate_secret", f"app {app.app_id} ({app.id})")
        return JSONResponse({"id": app.id, "app_id": app.app_id, "webhook_secret": secret})

    async def delete_instance(request: Request) -> JSONResponse:
        """
        summary: Delete a registered instance (its apps first); the proxy and the poller stop using it
        tags: [dify]
        security: [{bearer: []}]
        parameters: [{name: id, in: path, required: true, schema: {type: string}}]
        responses:
          200: {description: "{deleted: id}"}
          404: {description: unknown instance}
          409: {description: "it still has apps, or it is declared in the config file"}
        """
        actor = auth.require_bearer(request)
        instance = store.instance(request.path_params["id"])
        if instance is None:
            raise ApiError(404, "unknown_instance", f"no instance with id {clip(request.path_params['id'])!r}")
        _not_declared(instance.origin)
        if any(app.instance_id == instance.id for app in store.list_apps()):
            raise ApiError(409, "has_apps", f"instance {instance.name!r} still has apps: delete them first")
        store.delete_instance(instance.id)
        _audit(request, actor, "instance.delete", f"instance {instance.name} ({instance.id})")
        return JSONResponse({"deleted": instance.id})

    async def delete_app(request: Request) -> JSONResponse:
        """
        summary: Delete an app registration; its webhook secret stops working at once
        tags: [dify]
        security: [{bearer: []}]
        parameters: [{name: id, in: path, required: true, schema: {type: string}}]
        responses:
          200: {description: "{deleted: id}"}
          404: {description: unknown app}
          409: {description: it is declared in the config file}
        """
        actor = auth.require_bearer(request)
        app = _registered_app(request)
        _not_declared(app.origin)
        store.delete_app(app.id)
        _audit(request, actor, "app.delete", f"app {app.app_id} ({app.id})")
        return JSONResponse({"deleted": app.id})

    async def audit(request: Request) -> JSONResponse:
        """
        summary: The newest management actions (who, what, when, from where), newest first
        tags: [dify]
        security: [{bearer: []}]
        parameters: [{name: limit, in: query, required: false, schema: {type: integer, default: 100}}]
        responses:
          200: {description: "[{id, at, actor, action, target, client}]; actions: instance.register,
            instance.delete, app.register, app.rotate_secret, app.delete"}
          400: {description: "limit given twice, with different values, or an unknown query parameter"}
          422: {description: "limit is not a number from 1 to 1000"}
        """
        auth.require_bearer(request)
        require_known(request, ("limit",))
        raw = query_param(request, "limit")
        raw = "100" if raw is None else raw
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 1000:  # not U+0661, an Arabic-Indic 1
            raise ApiError(422, "invalid_query", "limit: a number from 1 to 1000")
        return JSONResponse([asdict(entry) for entry in store.audit_log(int(raw))])

    def _registered_app(request: Request) -> App:
        app = store.app_by_id(request.path_params["id"])
        if app is None:
            raise ApiError(404, "unknown_app", f"no app registration with id {clip(request.path_params['id'])!r}")
        return app

    def _not_declared(origin: str) -> None:
        if origin == "config":
            detail = "it is declared in the config file: change it there (the file wins at start)"
            raise ApiError(409, "declared_in_config", detail)

    def _audit(request: Request, actor: str, action: str, target: str) -> None:
        client = request.client.host if request.client else None
        store.audit(actor, action, target, client, time.time())

    return [
        Route("/api/v1/auth/token", token, methods=["POST"]),
        Route("/api/v1/dify/instances", instances, methods=["GET", "POST"]),
        Route("/api/v1/dify/apps", apps, methods=["GET", "POST"]),
        Route("/api/v1/dify/instances/{id}", delete_instance, methods=["DELETE"]),
        Route("/api/v1/dify/apps/{id}", delete_app, methods=["DELETE"]),
        Route("/api/v1/dify/apps/{id}/rotate-secret", rotate, methods=["POST"]),
        Route("/api/v1/audit", audit, methods=["GET"]),
    ]
