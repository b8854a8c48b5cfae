"""SQLite metadata store (the `lite` profile): tenants, settings, API keys and audit events in the trace database."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.engine import Connection, Engine

from adapters.storage.sqlite import SqliteStore, from_ts, ts
from domain.queries import AuditQuery, Page
from domain.tenancy import ApiKey, AuditEvent, MonitoringScope, Role, Tenant, TenantSettings


def _tenant(row: Any) -> Tenant:
    return Tenant(
        id=row.id,
        name=row.name,
        plan=row.plan,
        created_at=from_ts(row.created_at) or dt.datetime.now(dt.UTC),
        token_hash=row.token_hash,
        token_prefix=row.token_prefix,
        config=json.loads(row.config),
    )


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        key_hash=row.key_hash,
        key_prefix=row.key_prefix,
        role=Role(row.role),
        created_at=from_ts(row.created_at) or dt.datetime.now(dt.UTC),
        revoked_at=from_ts(row.revoked_at),
    )


class SqliteMetadataRepository(SqliteStore):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)

    async def create_tenant(self, tenant: Tenant) -> None:
        await self._run(
            lambda c: c.exec_driver_sql(
                "INSERT INTO tenants (id, name, plan, created_at, config, token_hash, token_prefix) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    tenant.id,
                    tenant.name,
                    tenant.plan,
                    ts(tenant.created_at),
                    json.dumps(dict(tenant.config)),
                    tenant.token_hash,
                    tenant.token_prefix,
                ),
            ),
            write=True,
        )

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        def read(c: Connection) -> Tenant | None:
            row = c.exec_driver_sql("SELECT * FROM tenants WHERE id = ?", (tenant_id,)).first()
            return None if row is None else _tenant(row)

        return await self._run(read)

    async def get_tenant_by_token_hash(self, token_hash: str) -> Tenant | None:
        def read(c: Connection) -> Tenant | None:
            row = c.exec_driver_sql("SELECT * FROM tenants WHERE token_hash = ?", (token_hash,)).first()
            return None if row is None else _tenant(row)

        return await self._run(read)

    async def list_tenants(self) -> list[Tenant]:
        return await self._run(
            lambda c: [_tenant(r) for r in c.exec_driver_sql("SELECT * FROM tenants ORDER BY created_at DESC, id DESC")]
        )

    async def update_tenant(self, tenant: Tenant) -> None:
        await self._run(
            lambda c: c.exec_driver_sql(
                "UPDATE tenants SET name = ?, plan = ?, config = ?, token_hash = ?, token_prefix = ? WHERE id = ?",
                (
                    tenant.name,
                    tenant.plan,
                    json.dumps(dict(tenant.config)),
                    tenant.token_hash,
                    tenant.token_prefix,
                    tenant.id,
                ),
            ),
            write=True,
        )

    async def delete_tenant(self, tenant_id: str) -> bool:
        def write(c: Connection) -> bool:
            c.exec_driver_sql("DELETE FROM api_keys WHERE tenant_id = ?", (tenant_id,))
            c.exec_driver_sql("DELETE FROM tenant_settings WHERE tenant_id = ?", (tenant_id,))
            return c.exec_driver_sql("DELETE FROM tenants WHERE id = ?", (tenant_id,)).rowcount > 0

        return await self._run(write, write=True)

    async def get_settings(self, tenant_id: str) -> TenantSettings | None:
        def read(c: Connection) -> TenantSettings | None:
            row = c.exec_driver_sql("SELECT * FROM tenant_settings WHERE tenant_id = ?", (tenant_id,)).first()
            if row is None:
                return None
            return TenantSettings(
                tenant_id=row.tenant_id,
                monitoring_scope=MonitoringScope(row.monitoring_scope),
                security_thresholds=json.loads(row.security_thresholds),
                feature_flags=json.loads(row.feature_flags),
                rate_limit_rpm=row.rate_limit_rpm,
                monthly_budget_usd=row.monthly_budget,
                data_protection=json.loads(row.data_protection) if row.data_protection else None,
            )

        return await self._run(read)

    async def put_settings(self, settings: TenantSettings) -> None:
        await self._run(
            lambda c: c.exec_driver_sql(
                "INSERT INTO tenant_settings (tenant_id, monitoring_scope, security_thresholds, feature_flags, "
                "rate_limit_rpm, monthly_budget, data_protection) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (tenant_id) DO UPDATE SET "
                "monitoring_scope = excluded.monitoring_scope, security_thresholds = excluded.security_thresholds, "
                "feature_flags = excluded.feature_flags, rate_limit_rpm = excluded.rate_limit_rpm, "
                "monthly_budget = excluded.monthly_budget, data_protection = excluded.data_protection",
                (
                    settings.tenant_id,
                    settings.monitoring_scope.value,
                    json.dumps(dict(settings.security_thresholds)),
                    json.dumps(dict(settings.feature_flags)),
                    settings.rate_limit_rpm,
                    settings.monthly_budget_usd,
                    None if settings.data_protection is None else json.dumps(dict(settings.data_protection)),
                ),
            ),
            write=True,
        )

    async def create_api_key(self, key: ApiKey) -> None:
        await self._run(
            lambda c: c.exec_driver_sql(
                "INSERT INTO api_keys (id, tenant_id, name, key_hash, key_prefix, role, created_at, revoked_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key.id,
                    key.tenant_id,
                    key.name,
                    key.key_hash,
                    key.key_prefix,
                    key.role.value,
                    ts(key.created_at),
                    ts(key.revoked_at),
                ),
            ),
            write=True,
        )

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        def read(c: Connection) -> ApiKey | None:
            row = c.exec_driver_sql(
                "SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,)
            ).first()
            return None if row is None else _key(row)

        return await self._run(read)

    async def list_api_keys(self, tenant_id: str) -> list[ApiKey]:
        return await self._run(
            lambda c: [
                _key(r)
                for r in c.exec_driver_sql(
                    "SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at DESC, id DESC", (tenant_id,)
                )
            ]
        )

    async def revoke_api_key(self, tenant_id: str, key_id: str, at: dt.datetime) -> bool:
        return await self._run(
            lambda c: (
                c.exec_driver_sql(
                    "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND tenant_id = ? AND revoked_at IS NULL",
                    (ts(at), key_id, tenant_id),
                ).rowcount
                > 0
            ),
            write=True,
        )

    async def record_audit_event(self, event: AuditEvent) -> None:
        await self._run(
            lambda c: c.exec_driver_sql(
                "INSERT INTO audit_events (id, tenant_id, event_type, actor, resource, data, timestamp) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    event.id,
                    event.tenant_id,
                    event.event_type,
                    event.actor,
                    event.resource,
                    json.dumps(dict(event.data)),
                    ts(event.timestamp),
                ),
            ),
            write=True,
        )

    async def query_audit_events(self, query: AuditQuery) -> Page[AuditEvent]:
        def read(c: Connection) -> Page[AuditEvent]:
            where = ["tenant_id = ?"]
            params: list[Any] = [query.tenant_id]
            if query.event_type is not None:
                where.append("event_type = ?")
                params.append(query.event_type)
            if query.start_time is not None:
                where.append("timestamp >= ?")
                params.append(ts(query.start_time))
            if query.end_time is not None:
                where.append("timestamp <= ?")
                params.append(ts(query.end_time))
            clause = " AND ".join(where)
            total = c.exec_driver_sql(f"SELECT count(*) FROM audit_events WHERE {clause}", tuple(params)).scalar_one()
            rows = c.exec_driver_sql(
                f"SELECT * FROM audit_events WHERE {clause} ORDER BY timestamp DESC, id DESC LIMIT ? OFFSET ?",
                (*params, query.limit, query.offset),
            )
            items = [
                AuditEvent(
                    id=r.id,
                    tenant_id=r.tenant_id,
                    event_type=r.event_type,
                    actor=r.actor,
                    resource=r.resource,
                    data=json.loads(r.data),
                    timestamp=from_ts(r.timestamp) or dt.datetime.now(dt.UTC),
                )
                for r in rows
            ]
            return Page(items=items, total=total, limit=query.limit, offset=query.offset)

        return await self._run(read)

    async def close(self) -> None:
        return None  # the engine belongs to the trace repository, which disposes of it
