"""Tenant, API key, settings and audit administration. Every change is audited; every read is scoped.

Scoping rule: a caller acts on its own tenant. Only the bootstrap admin key (``Caller.superuser``) creates tenants,
sees all of them and may act on any tenant. A tenant that is not the caller's is reported exactly like a tenant
that does not exist (404), so ids of other tenants cannot be probed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import attrs

from app.use_cases.access import AccessControl, TenantSettingsCache
from domain.errors import Forbidden, Invalid, NotFound
from domain.queries import AuditQuery, Page
from domain.tenancy import (
    ApiKey,
    AuditEvent,
    Caller,
    CreatedKey,
    CreatedTenant,
    Role,
    Tenant,
    TenantSettings,
    display_prefix,
    generate_secret,
    hash_secret,
    parse_settings,
)
from ports.repositories import MetadataRepository


def require(caller: Caller, role: Role) -> None:
    if caller.role < role:
        raise Forbidden(f"this operation requires the {role.value} role (caller has {caller.role.value})")


class TenantAdmin:
    def __init__(self, metadata: MetadataRepository, access: AccessControl, settings: TenantSettingsCache) -> None:
        self._metadata = metadata
        self._access = access
        self._settings = settings

    async def _audit(
        self, caller: Caller, tenant_id: str, event_type: str, resource: str, data: Mapping[str, Any] | None = None
    ) -> None:
        await self._metadata.record_audit_event(
            AuditEvent(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                event_type=event_type,
                actor=caller.actor,
                resource=resource,
                timestamp=dt.datetime.now(dt.UTC),
                data=dict(data or {}),
            )
        )

    async def _visible(self, caller: Caller, tenant_id: str) -> Tenant:
        if not caller.superuser and tenant_id != caller.tenant_id:
            raise NotFound(f"tenant {tenant_id} not found")
        tenant = await self._metadata.get_tenant(tenant_id)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id} not found")
        return tenant

    # -- tenants ----------------------------------------------------------------------------------------------
    async def create_tenant(self, caller: Caller, name: str, plan: str, config: Mapping[str, Any]) -> CreatedTenant:
        require(caller, Role.ADMIN)
        if not caller.superuser:
            raise Forbidden("only the bootstrap admin key creates tenants")
        if not name.strip():
            raise Invalid("name must not be empty")
        token = generate_secret()
        tenant = Tenant(
            id=str(uuid.uuid4()),
            name=name.strip(),
            plan=plan or "default",
            created_at=dt.datetime.now(dt.UTC),
            token_hash=hash_secret(token),
            token_prefix=display_prefix(token),
            config=dict(config),
        )
        await self._metadata.create_tenant(tenant)
        await self._audit(caller, tenant.id, "tenant_created", f"tenant:{tenant.id}", {"name": tenant.name})
        created = await self._create_key(caller, tenant.id, "Default Key", Role.ADMIN)
        return CreatedTenant(tenant=tenant, api_token=token, api_key=created.key, api_key_secret=created.secret)

    async def list_tenants(self, caller: Caller) -> list[Tenant]:
        require(caller, Role.ADMIN)
        tenants = await self._metadata.list_tenants()
        return tenants if caller.superuser else [t for t in tenants if t.id == caller.tenant_id]

    async def get_tenant(self, caller: Caller, tenant_id: str) -> Tenant:
        require(caller, Role.ADMIN)
        return await self._visible(caller, tenant_id)

    async def update_tenant(self, caller: Caller, tenant_id: str, changes: Mapping[str, Any]) -> Tenant:
        require(caller, Role.ADMIN)
        tenant = await self._visible(caller, tenant_id)
        unknown = set(changes) - {"name", "plan", "config"}
        if unknown:
            raise Invalid(f"unknown fields: {', '.join(sorted(unknown))}")
        if "name" in changes and (not isinstance(changes["name"], str) or not changes["name"].strip()):
            raise Invalid("name must be a non-empty string")
        if "config" in changes and not isinstance(changes["config"], dict):
            raise Invalid("config must be an object")
        updated = attrs.evolve(
            tenant,
            name=str(changes.get("name", tenant.name)).strip(),
            plan=str(changes.get("plan", tenant.plan)),
            config=changes.get("config", tenant.config),
        )
        await self._metadata.update_tenant(updated)
        await self._audit(caller, tenant_id, "tenant_updated", f"tenant:{tenant_id}", {"fields": sorted(changes)})
        return updated

    async def delete_tenant(self, caller: Caller, tenant_id: str) -> None:
        require(caller, Role.ADMIN)
        await self._visible(caller, tenant_id)
        await self._metadata.delete_tenant(tenant_id)
        self._access.invalidate()
        self._settings.invalidate(tenant_id)
        await self._audit(caller, tenant_id, "tenant_deleted", f"tenant:{tenant_id}")

    async def reset_token(self, caller: Caller, tenant_id: str) -> str:
        require(caller, Role.ADMIN)
        tenant = await self._visible(caller, tenant_id)
        token = generate_secret()
        await self._metadata.update_tenant(
            attrs.evolve(tenant, token_hash=hash_secret(token), token_prefix=display_prefix(token))
        )
        self._access.invalidate()
        await self._audit(caller, tenant_id, "tenant_token_reset", f"tenant:{tenant_id}")
        return token

    # -- settings ---------------------------------------------------------------------------------------------
    async def get_settings(self, caller: Caller, tenant_id: str) -> TenantSettings:
        require(caller, Role.OPERATOR)
        await self._visible(caller, tenant_id)
        return await self._metadata.get_settings(tenant_id) or TenantSettings(tenant_id=tenant_id)

    async def put_settings(self, caller: Caller, tenant_id: str, data: Mapping[str, Any]) -> TenantSettings:
        require(caller, Role.ADMIN)
        await self._visible(caller, tenant_id)
        current = await self._metadata.get_settings(tenant_id)
        try:
            settings = parse_settings(tenant_id, data, current)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        await self._metadata.put_settings(settings)
        self._settings.invalidate(tenant_id)
        await self._audit(caller, tenant_id, "tenant_settings_updated", f"tenant:{tenant_id}", {"fields": sorted(data)})
        return settings

    # -- keys -------------------------------------------------------------------------------------------------
    async def _create_key(self, caller: Caller, tenant_id: str, name: str, role: Role) -> CreatedKey:
        secret = generate_secret()
        key = ApiKey(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            name=name,
            key_hash=hash_secret(secret),
            key_prefix=display_prefix(secret),
            role=role,
            created_at=dt.datetime.now(dt.UTC),
        )
        await self._metadata.create_api_key(key)
        await self._audit(
            caller,
            tenant_id,
            "api_key_created",
            f"api_key:{key.id}",
            {"name": name, "role": role.value, "key_prefix": key.key_prefix},
        )
        return CreatedKey(key=key, secret=secret)

    async def create_key(self, caller: Caller, tenant_id: str | None, name: str, role_name: str) -> CreatedKey:
        require(caller, Role.ADMIN)
        if not isinstance(name, str) or not name.strip():
            raise Invalid("name must not be empty")
        try:
            role = Role.parse(str(role_name))
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        target = tenant_id or caller.tenant_id
        await self._visible(caller, target)
        return await self._create_key(caller, target, name.strip(), role)

    async def list_keys(self, caller: Caller) -> list[ApiKey]:
        require(caller, Role.ADMIN)
        return await self._metadata.list_api_keys(caller.tenant_id)

    async def revoke_key(self, caller: Caller, key_id: str) -> None:
        require(caller, Role.ADMIN)
        if not await self._metadata.revoke_api_key(caller.tenant_id, key_id, dt.datetime.now(dt.UTC)):
            raise NotFound("API key not found or already revoked")
        self._access.invalidate()
        await self._audit(caller, caller.tenant_id, "api_key_revoked", f"api_key:{key_id}")

    # -- audit ------------------------------------------------------------------------------------------------
    async def audit_events(self, caller: Caller, query: AuditQuery) -> Page[AuditEvent]:
        require(caller, Role.ADMIN)
        return await self._metadata.query_audit_events(attrs.evolve(query, tenant_id=caller.tenant_id))
