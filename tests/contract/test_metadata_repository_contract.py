"""The contract every metadata store passes (in-memory fake and SQLite; production adapters plug in here)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from adapters.storage.memory_metadata import InMemoryMetadataRepository
from adapters.storage.sqlite import SqliteTraceRepository
from adapters.storage.sqlite_metadata import SqliteMetadataRepository
from domain.queries import AuditQuery
from domain.tenancy import ApiKey, AuditEvent, MonitoringScope, Role, Tenant, TenantSettings, hash_secret
from ports.repositories import MetadataRepository
from tests.contract.postgres import fresh_postgres_store

T0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def sqlite_store(tmp: Path) -> SqliteMetadataRepository:
    return SqliteMetadataRepository(SqliteTraceRepository.open(str(tmp / "meta.db")).engine)


STORES: dict[str, Callable[[Path], MetadataRepository]] = {
    "memory": lambda tmp: InMemoryMetadataRepository(),
    "sqlite": sqlite_store,
}


@pytest.fixture(params=[*sorted(STORES), pytest.param("postgres", marks=pytest.mark.services)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MetadataRepository]:
    if request.param != "postgres":
        repository = STORES[request.param](tmp_path)
        yield repository
        await repository.close()
        return
    # The production adapter against the real PostgreSQL on 127.0.0.1, in a database of its own.
    async with fresh_postgres_store() as repository:
        yield repository


def tenant(name: str, minute: int = 0) -> Tenant:
    return Tenant(
        id=str(uuid.uuid4()),
        name=name,
        plan="default",
        created_at=T0 + dt.timedelta(minutes=minute),
        token_hash=hash_secret(name + "-token"),
        token_prefix="llmt_abcdefg…",
        config={"team": name},
    )


def key(tenant_id: str, name: str, role: Role = Role.VIEWER, minute: int = 0) -> ApiKey:
    return ApiKey(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        name=name,
        key_hash=hash_secret(tenant_id + name),
        key_prefix="llmt_0123456…",
        role=role,
        created_at=T0 + dt.timedelta(minutes=minute),
    )


async def test_tenants(store: MetadataRepository) -> None:
    a, b = tenant("a", 0), tenant("b", 1)
    await store.create_tenant(a)
    await store.create_tenant(b)
    assert await store.get_tenant(a.id) == a
    assert await store.get_tenant_by_token_hash(hash_secret("b-token")) == b
    assert await store.get_tenant_by_token_hash(hash_secret("nope")) is None
    assert [t.id for t in await store.list_tenants()] == [b.id, a.id]
    renamed = Tenant(
        id=a.id,
        name="a2",
        plan="pro",
        created_at=a.created_at,
        token_hash=a.token_hash,
        token_prefix=a.token_prefix,
        config={},
    )
    await store.update_tenant(renamed)
    assert await store.get_tenant(a.id) == renamed
    await store.create_api_key(key(a.id, "k"))
    await store.put_settings(TenantSettings(tenant_id=a.id))
    assert await store.delete_tenant(a.id) is True
    assert await store.delete_tenant(a.id) is False
    assert await store.get_tenant(a.id) is None
    assert await store.list_api_keys(a.id) == [] and await store.get_settings(a.id) is None


async def test_settings(store: MetadataRepository) -> None:
    t = tenant("s")
    await store.create_tenant(t)
    assert await store.get_settings(t.id) is None
    settings = TenantSettings(
        tenant_id=t.id,
        monitoring_scope=MonitoringScope.INPUT_ONLY,
        security_thresholds={"pii": 0.9},
        feature_flags={"beta": True},
        rate_limit_rpm=60,
        monthly_budget_usd=12.5,
    )
    await store.put_settings(settings)
    assert await store.get_settings(t.id) == settings
    await store.put_settings(TenantSettings(tenant_id=t.id))
    assert await store.get_settings(t.id) == TenantSettings(tenant_id=t.id)


async def test_keys_and_revocation(store: MetadataRepository) -> None:
    a, b = tenant("ka"), tenant("kb")
    await store.create_tenant(a)
    await store.create_tenant(b)
    k1, k2 = key(a.id, "one", Role.ADMIN, 0), key(a.id, "two", Role.VIEWER, 1)
    await store.create_api_key(k1)
    await store.create_api_key(k2)
    assert await store.get_api_key_by_hash(k1.key_hash) == k1
    assert [k.id for k in await store.list_api_keys(a.id)] == [k2.id, k1.id]
    assert await store.revoke_api_key(b.id, k1.id, T0) is False  # another tenant cannot revoke it
    assert await store.revoke_api_key(a.id, k1.id, T0) is True
    assert await store.revoke_api_key(a.id, k1.id, T0) is False
    assert await store.get_api_key_by_hash(k1.key_hash) is None
    listed = {k.id: k for k in await store.list_api_keys(a.id)}
    assert listed[k1.id].revoked_at == T0


async def test_audit_events(store: MetadataRepository) -> None:
    t, other = str(uuid.uuid4()), str(uuid.uuid4())
    for i, kind in enumerate(["tenant_created", "api_key_created", "api_key_revoked"]):
        await store.record_audit_event(
            AuditEvent(
                id=str(uuid.uuid4()),
                tenant_id=t,
                event_type=kind,
                actor="api",
                resource=f"r{i}",
                timestamp=T0 + dt.timedelta(minutes=i),
                data={"i": i},
            )
        )
    await store.record_audit_event(
        AuditEvent(
            id=str(uuid.uuid4()), tenant_id=other, event_type="tenant_created", actor="api", resource="r", timestamp=T0
        )
    )
    page = await store.query_audit_events(AuditQuery(tenant_id=t))
    assert page.total == 3 and [e.resource for e in page.items] == ["r2", "r1", "r0"]
    assert page.items[0].data == {"i": 2}
    only = await store.query_audit_events(AuditQuery(tenant_id=t, event_type="api_key_created"))
    assert [e.resource for e in only.items] == ["r1"]
    window = await store.query_audit_events(
        AuditQuery(tenant_id=t, start_time=T0 + dt.timedelta(minutes=1), limit=1, offset=1)
    )
    assert window.total == 2 and [e.resource for e in window.items] == ["r1"]
