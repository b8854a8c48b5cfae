"""Tenant administration: live config, tenants and their settings, API keys, the audit log (roles apply)."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request

from adapters.codec import audit_to_json, key_to_json, settings_to_json, tenant_to_json
from adapters.http.routes.common import (
    BadRequest,
    administration,
    caller,
    created,
    json_body,
    page_json,
    page_params,
    services,
    tenant,
    time_param,
)
from domain.queries import AuditQuery

routes = Blueprint("admin", __name__)


@routes.get("/api/v1/auth/whoami")
async def whoami() -> Response:
    who = caller()
    return jsonify(
        {
            "tenant_id": who.tenant_id,
            "role": who.role.value,
            "actor": who.actor,
            "superuser": who.superuser,
            "auth_enabled": services().access.enabled,
        }
    )


@routes.get("/api/v1/config/live")
async def config_live() -> Response:
    live_config = services().live_config
    return jsonify({"config": live_config() if live_config else {}})


@routes.post("/api/v1/tenants")
async def create_tenant() -> Response:
    body = await json_body()
    config = body.get("config") or {}
    if not isinstance(config, dict):
        raise BadRequest("config must be an object")
    made = await administration().create_tenant(
        caller(), str(body.get("name") or ""), str(body.get("plan") or "default"), config
    )
    data = tenant_to_json(made.tenant)
    data["api_token"] = made.api_token
    data["api_key"] = made.api_key_secret
    data["api_key_id"] = made.api_key.id
    return created(data)


@routes.get("/api/v1/tenants")
async def list_tenants() -> Response:
    return jsonify([tenant_to_json(t) for t in await administration().list_tenants(caller())])


@routes.get("/api/v1/tenants/<tenant_id>")
async def get_tenant(tenant_id: str) -> Response:
    return jsonify(tenant_to_json(await administration().get_tenant(caller(), tenant_id)))


@routes.put("/api/v1/tenants/<tenant_id>")
async def update_tenant(tenant_id: str) -> Response:
    return jsonify(tenant_to_json(await administration().update_tenant(caller(), tenant_id, await json_body())))


@routes.delete("/api/v1/tenants/<tenant_id>")
async def delete_tenant(tenant_id: str) -> Response:
    await administration().delete_tenant(caller(), tenant_id)
    return Response("", status=204)


@routes.post("/api/v1/tenants/<tenant_id>/token/reset")
async def reset_token(tenant_id: str) -> Response:
    return jsonify({"api_token": await administration().reset_token(caller(), tenant_id)})


@routes.get("/api/v1/tenants/<tenant_id>/settings")
async def get_settings(tenant_id: str) -> Response:
    return jsonify(settings_to_json(await administration().get_settings(caller(), tenant_id)))


@routes.put("/api/v1/tenants/<tenant_id>/settings")
async def put_settings(tenant_id: str) -> Response:
    return jsonify(settings_to_json(await administration().put_settings(caller(), tenant_id, await json_body())))


@routes.post("/api/v1/auth/keys")
async def create_key() -> Response:
    body = await json_body()
    tenant_id = body.get("tenant_id")
    if tenant_id is not None and not isinstance(tenant_id, str):
        raise BadRequest("tenant_id must be a string")
    made = await administration().create_key(caller(), tenant_id, body.get("name") or "", str(body.get("role") or ""))
    data = key_to_json(made.key)
    data["key"] = made.secret
    return created(data)


@routes.get("/api/v1/auth/keys")
async def list_keys() -> Response:
    return jsonify([key_to_json(k) for k in await administration().list_keys(caller())])


@routes.delete("/api/v1/auth/keys/<key_id>")
async def revoke_key(key_id: str) -> Response:
    await administration().revoke_key(caller(), key_id)
    return Response("", status=204)


@routes.get("/api/v1/audit")
async def audit() -> Response:
    limit, offset = page_params()
    page = await administration().audit_events(
        caller(),
        AuditQuery(
            tenant_id=tenant(),
            event_type=request.args.get("event_type") or None,
            start_time=time_param("start_time"),
            end_time=time_param("end_time"),
            limit=limit,
            offset=offset,
        ),
    )
    return page_json(page, audit_to_json)
