"""PostgreSQL metadata store (production profile): asyncpg through trio-asyncio, confined to this adapter.

The pool lives on the trio-asyncio loop opened by the composition root; every call crosses with ``aio_as_trio`` on
that loop, so it works from any trio task. Versioned migrations in ``schema_version`` (each in a transaction), applied
by ``llmtrace-proxy migrate`` and on start when ``storage.auto_migrate`` is true.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg
import trio_asyncio

from domain.queries import AuditQuery, Page
from domain.tenancy import ApiKey, AuditEvent, MonitoringScope, Role, Tenant, TenantSettings
from ports.repositories import StorageUnavailable

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "tenants, tenant settings, api keys, audit events (secrets stored as SHA-256 only)",
        [
            """CREATE TABLE IF NOT EXISTS tenants (
                id UUID PRIMARY KEY, name VARCHAR(255) NOT NULL, plan VARCHAR(50) NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now(), config JSONB NOT NULL DEFAULT '{}',
                token_hash VARCHAR(64) NOT NULL UNIQUE, token_prefix VARCHAR(16) NOT NULL)""",
            """CREATE TABLE IF NOT EXISTS tenant_settings (
                tenant_id UUID PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
                monitoring_scope VARCHAR(20) NOT NULL DEFAULT 'hybrid',
                security_thresholds JSONB NOT NULL DEFAULT '{}', feature_flags JSONB NOT NULL DEFAULT '{}',
                rate_limit_rpm INTEGER, monthly_budget DOUBLE PRECISION)""",
            """CREATE TABLE IF NOT EXISTS api_keys (
                id UUID PRIMARY KEY, tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                name VARCHAR(255) NOT NULL, key_hash VARCHAR(64) NOT NULL UNIQUE, key_prefix VARCHAR(16) NOT NULL,
                role VARCHAR(20) NOT NULL, created_at TIMESTAMPTZ NOT NULL, revoked_at TIMESTAMPTZ)""",
            "CREATE INDEX IF NOT EXISTS idx_api_keys_tenant ON api_keys (tenant_id)",
            """CREATE TABLE IF NOT EXISTS audit_events (
                id UUID PRIMARY KEY, tenant_id UUID NOT NULL, event_type VARCHAR(100) NOT NULL,
                actor VARCHAR(255) NOT NULL, resource VARCHAR(255) NOT NULL, data JSONB NOT NULL DEFAULT '{}',
                timestamp TIMESTAMPTZ NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS idx_audit_tenant_time ON audit_events (tenant_id, timestamp DESC)",
            "CREATE INDEX IF NOT EXISTS idx_audit_tenant_type ON audit_events (tenant_id, event_type)",
        ],
    ),
    (
        2,
        "tenant data protection policy",
        ["ALTER TABLE tenant_settings ADD COLUMN IF NOT EXISTS data_protection JSONB"],
    ),
    (
        3,
        "alerts (shared by every replica, so acknowledgement and escalation agree)",
        [
            """CREATE TABLE IF NOT EXISTS alerts (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
                status VARCHAR(20) NOT NULL, data JSONB NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS idx_alerts_tenant_time ON alerts (tenant_id, created_at DESC, id DESC)",
            "CREATE INDEX IF NOT EXISTS idx_alerts_open ON alerts (created_at) WHERE status = 'open'",
        ],
    ),
    (
        4,
        "compliance reports",
        [
            """CREATE TABLE IF NOT EXISTS compliance_reports (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, status VARCHAR(20) NOT NULL,
                created_at TIMESTAMPTZ NOT NULL, data JSONB NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS idx_reports_tenant_created ON compliance_reports (tenant_id, created_at DESC)",
        ],
    ),
]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _tenant(row: Any) -> Tenant:
    return Tenant(
        id=str(row["id"]),
        name=row["name"],
        plan=row["plan"],
        created_at=row["created_at"],
        token_hash=row["token_hash"],
        token_prefix=row["token_prefix"],
        config=json.loads(row["config"]),
    )


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=str(row["id"]),
        tenant_id=str(row["tenant_id"]),
        name=row["name"],
        key_hash=row["key_hash"],
        key_prefix=row["key_prefix"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


class PostgresMetadataRepository:
    def __init__(self, pool: asyncpg.Pool, loop: Any) -> None:
        self._pool = pool
        self._loop = loop

    @classmethod
    async def open(cls, dsn: str, *, migrate: bool = True) -> PostgresMetadataRepository:
        loop = trio_asyncio.current_loop.get()
        if loop is None:
            raise RuntimeError("the PostgreSQL store needs a trio-asyncio loop (trio_asyncio.open_loop)")
        try:
            pool = await trio_asyncio.aio_as_trio(asyncpg.create_pool, loop=loop)(
                dsn, min_size=1, max_size=8, command_timeout=10
            )
        except (OSError, asyncpg.PostgresError) as exc:
            raise StorageUnavailable(f"postgres: {exc}") from exc
        store = cls(pool, loop)
        if migrate:
            await store.migrate()
        return store

    async def call(self, method: str, sql: str, *args: Any) -> Any:
        """One pool call (``execute``, ``fetch``, ``fetchrow``, ``fetchval``) on the trio-asyncio loop."""
        try:
            return await trio_asyncio.aio_as_trio(getattr(self._pool, method), loop=self._loop)(sql, *args)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageUnavailable(f"postgres: {exc}") from exc

    async def migrate(self) -> list[int]:
        async def work() -> list[int]:
            async with self._pool.acquire() as conn:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ "
                    "NOT NULL DEFAULT now(), description TEXT NOT NULL)"
                )
                done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_version")}
                applied = []
                for version, description, statements in MIGRATIONS:
                    if version in done:
                        continue
                    async with conn.transaction():
                        for statement in statements:
                            await conn.execute(statement)
                        await conn.execute(
                            "INSERT INTO schema_version (version, description) VALUES ($1, $2)", version, description
                        )
                    applied.append(version)
                return applied

        try:
            return await trio_asyncio.aio_as_trio(work, loop=self._loop)()
        except (OSError, asyncpg.PostgresError) as exc:
            raise StorageUnavailable(f"postgres: {exc}") from exc

    async def create_tenant(self, tenant: Tenant) -> None:
        await self.call(
            "execute",
            "INSERT INTO tenants (id, name, plan, created_at, config, token_hash, token_prefix) "
            "VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)",
            tenant.id,
            tenant.name,
            tenant.plan,
            tenant.created_at,
            json.dumps(dict(tenant.config)),
            tenant.token_hash,
            tenant.token_prefix,
        )

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        if not _is_uuid(tenant_id):
            return None
        row = await self.call("fetchrow", "SELECT * FROM tenants WHERE id = $1::uuid", tenant_id)
        return None if row is None else _tenant(row)

    async def get_tenant_by_token_hash(self, token_hash: str) -> Tenant | None:
        row = await self.call("fetchrow", "SELECT * FROM tenants WHERE token_hash = $1", token_hash)
        return None if row is None else _tenant(row)

    async def list_tenants(self) -> list[Tenant]:
        return [_tenant(r) for r in await self.call("fetch", "SELECT * FROM tenants ORDER BY created_at DESC, id DESC")]

    async def update_tenant(self, tenant: Tenant) -> None:
        await self.call(
            "execute",
            "UPDATE tenants SET name = $2, plan = $3, config = $4::jsonb, token_hash = $5, "
            "token_prefix = $6 WHERE id = $1::uuid",
            tenant.id,
            tenant.name,
            tenant.plan,
            json.dumps(dict(tenant.config)),
            tenant.token_hash,
            tenant.token_prefix,
        )

    async def delete_tenant(self, tenant_id: str) -> bool:
        if not _is_uuid(tenant_id):
            return False
        result = await self.call("execute", "DELETE FROM tenants WHERE id = $1::uuid", tenant_id)
        return bool(result) and result.endswith(" 1")

    async def get_settings(self, tenant_id: str) -> TenantSettings | None:
        if not _is_uuid(tenant_id):
            return None
        row = await self.call("fetchrow", "SELECT * FROM tenant_settings WHERE tenant_id = $1::uuid", tenant_id)
        if row is None:
            return None
        return TenantSettings(
            tenant_id=str(row["tenant_id"]),
            monitoring_scope=MonitoringScope(row["monitoring_scope"]),
            security_thresholds=json.loads(row["security_thresholds"]),
            feature_flags=json.loads(row["feature_flags"]),
            rate_limit_rpm=row["rate_limit_rpm"],
            monthly_budget_usd=row["monthly_budget"],
            data_protection=json.loads(row["data_protection"]) if row["data_protection"] else None,
        )

    async def put_settings(self, settings: TenantSettings) -> None:
        await self.call(
            "execute",
            "INSERT INTO tenant_settings (tenant_id, monitoring_scope, security_thresholds, feature_flags, "
            "rate_limit_rpm, monthly_budget, data_protection) VALUES ($1::uuid, $2, $3::jsonb, $4::jsonb, $5, $6, "
            "$7::jsonb) ON CONFLICT (tenant_id) DO UPDATE SET monitoring_scope = excluded.monitoring_scope, "
            "security_thresholds = excluded.security_thresholds, feature_flags = excluded.feature_flags, "
            "rate_limit_rpm = excluded.rate_limit_rpm, monthly_budget = excluded.monthly_budget, "
            "data_protection = excluded.data_protection",
            settings.tenant_id,
            settings.monitoring_scope.value,
            json.dumps(dict(settings.security_thresholds)),
            json.dumps(dict(settings.feature_flags)),
            settings.rate_limit_rpm,
            settings.monthly_budget_usd,
            None if settings.data_protection is None else json.dumps(dict(settings.data_protection)),
        )

    async def create_api_key(self, key: ApiKey) -> None:
        await self.call(
            "execute",
            "INSERT INTO api_keys (id, tenant_id, name, key_hash, key_prefix, role, "
            "created_at, revoked_at) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8)",
            key.id,
            key.tenant_id,
            key.name,
            key.key_hash,
            key.key_prefix,
            key.role.value,
            key.created_at,
            key.revoked_at,
        )

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        row = await self.call("fetchrow", "SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL", key_hash)
        return None if row is None else _key(row)

    async def list_api_keys(self, tenant_id: str) -> list[ApiKey]:
        if not _is_uuid(tenant_id):
            return []
        rows = await self.call(
            "fetch", "SELECT * FROM api_keys WHERE tenant_id = $1::uuid ORDER BY created_at DESC, id DESC", tenant_id
        )
        return [_key(r) for r in rows]

    async def revoke_api_key(self, tenant_id: str, key_id: str, at: dt.datetime) -> bool:
        if not (_is_uuid(tenant_id) and _is_uuid(key_id)):
            return False
        try:
            result = await self.call(
                "execute",
                "UPDATE api_keys SET revoked_at = $3 WHERE id = $1::uuid AND "
                "tenant_id = $2::uuid AND revoked_at IS NULL",
                key_id,
                tenant_id,
                at,
            )
        except StorageUnavailable as exc:
            if "invalid input syntax for type uuid" in str(exc):
                return False
            raise
        return bool(result) and result.endswith(" 1")

    async def record_audit_event(self, event: AuditEvent) -> None:
        await self.call(
            "execute",
            "INSERT INTO audit_events (id, tenant_id, event_type, actor, resource, data, "
            "timestamp) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::jsonb, $7)",
            event.id,
            event.tenant_id,
            event.event_type,
            event.actor,
            event.resource,
            json.dumps(dict(event.data)),
            event.timestamp,
        )

    async def query_audit_events(self, query: AuditQuery) -> Page[AuditEvent]:
        where = ["tenant_id = $1::uuid"]
        args: list[Any] = [query.tenant_id]
        for clause, value in (
            ("event_type = ${}", query.event_type),
            ("timestamp >= ${}", query.start_time),
            ("timestamp <= ${}", query.end_time),
        ):
            if value is not None:
                args.append(value)
                where.append(clause.format(len(args)))
        condition = " AND ".join(where)
        total = await self.call("fetchval", f"SELECT count(*) FROM audit_events WHERE {condition}", *args)
        rows = await self.call(
            "fetch",
            f"SELECT * FROM audit_events WHERE {condition} ORDER BY timestamp DESC, id DESC "
            f"LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}",
            *args,
            query.limit,
            query.offset,
        )
        items = [
            AuditEvent(
                id=str(r["id"]),
                tenant_id=str(r["tenant_id"]),
                event_type=r["event_type"],
                actor=r["actor"],
                resource=r["resource"],
                data=json.loads(r["data"]),
                timestamp=r["timestamp"],
            )
            for r in rows
        ]
        return Page(items=items, total=int(total), limit=query.limit, offset=query.offset)

    async def health_check(self) -> None:
        await self.call("fetchval", "SELECT 1")

    async def close(self) -> None:
        await trio_asyncio.aio_as_trio(self._pool.close, loop=self._loop)()
