"""In-memory metadata store: the `memory` profile and the fake for application tests."""

from __future__ import annotations

import datetime as dt

import attrs

from domain.queries import AuditQuery, Page
from domain.tenancy import ApiKey, AuditEvent, Tenant, TenantSettings
from ports.repositories import StorageUnavailable


class InMemoryMetadataRepository:
    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.settings: dict[str, TenantSettings] = {}
        self.keys: dict[str, ApiKey] = {}
        self.audit: list[AuditEvent] = []
        self.available = True

    def _check(self) -> None:
        if not self.available:
            raise StorageUnavailable("in-memory metadata store marked unavailable")

    async def create_tenant(self, tenant: Tenant) -> None:
        self._check()
        self.tenants[tenant.id] = tenant

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        self._check()
        return self.tenants.get(tenant_id)

    async def get_tenant_by_token_hash(self, token_hash: str) -> Tenant | None:
        self._check()
        return next((t for t in self.tenants.values() if t.token_hash == token_hash), None)

    async def list_tenants(self) -> list[Tenant]:
        self._check()
        return sorted(self.tenants.values(), key=lambda t: (t.created_at, t.id), reverse=True)

    async def update_tenant(self, tenant: Tenant) -> None:
        self._check()
        self.tenants[tenant.id] = tenant

    async def delete_tenant(self, tenant_id: str) -> bool:
        self._check()
        if self.tenants.pop(tenant_id, None) is None:
            return False
        self.settings.pop(tenant_id, None)
        self.keys = {k: v for k, v in self.keys.items() if v.tenant_id != tenant_id}
        return True

    async def get_settings(self, tenant_id: str) -> TenantSettings | None:
        self._check()
        return self.settings.get(tenant_id)

    async def put_settings(self, settings: TenantSettings) -> None:
        self._check()
        self.settings[settings.tenant_id] = settings

    async def create_api_key(self, key: ApiKey) -> None:
        self._check()
        self.keys[key.id] = key

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        self._check()
        return next((k for k in self.keys.values() if k.key_hash == key_hash and k.revoked_at is None), None)

    async def list_api_keys(self, tenant_id: str) -> list[ApiKey]:
        self._check()
        keys = [k for k in self.keys.values() if k.tenant_id == tenant_id]
        return sorted(keys, key=lambda k: (k.created_at, k.id), reverse=True)

    async def revoke_api_key(self, tenant_id: str, key_id: str, at: dt.datetime) -> bool:
        self._check()
        key = self.keys.get(key_id)
        if key is None or key.tenant_id != tenant_id or key.revoked_at is not None:
            return False
        self.keys[key_id] = attrs.evolve(key, revoked_at=at)
        return True

    async def record_audit_event(self, event: AuditEvent) -> None:
        self._check()
        self.audit.append(event)

    async def query_audit_events(self, query: AuditQuery) -> Page[AuditEvent]:
        self._check()
        events = [
            e
            for e in self.audit
            if e.tenant_id == query.tenant_id
            and (query.event_type is None or e.event_type == query.event_type)
            and (query.start_time is None or e.timestamp >= query.start_time)
            and (query.end_time is None or e.timestamp <= query.end_time)
        ]
        events.sort(key=lambda e: (e.timestamp, e.id), reverse=True)
        return Page(
            items=events[query.offset : query.offset + query.limit],
            total=len(events),
            limit=query.limit,
            offset=query.offset,
        )

    async def health_check(self) -> None:
        self._check()

    async def close(self) -> None:
        return None
