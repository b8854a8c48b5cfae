"""Proxy admission with a metadata store that is down: auth fails closed with 503, auth off keeps flowing."""

from __future__ import annotations

import time

from adapters.storage.counters import InMemoryCounters
from adapters.storage.memory_metadata import InMemoryMetadataRepository
from app.use_cases.access import AccessControl, ProxyGate, SpendLedger, TenantSettingsCache
from domain.capture import DEFAULT_TENANT_ID


def gate(enabled: bool, metadata: InMemoryMetadataRepository) -> ProxyGate:
    access = AccessControl(metadata, enabled=enabled, admin_key="admin", anonymous_tenant=lambda h: DEFAULT_TENANT_ID)
    counters = InMemoryCounters()
    return ProxyGate(access, TenantSettingsCache(metadata), SpendLedger(counters), counters, time.time)


async def test_dead_credential_store_is_a_503_not_a_crash() -> None:
    metadata = InMemoryMetadataRepository()
    metadata.available = False
    rejection = (await gate(True, metadata).admit({b"x-llmtrace-token": b"llmt_" + b"0" * 64})).rejection
    assert rejection is not None and rejection.status == 503
    assert dict(rejection.headers)[b"retry-after"] == b"5"


async def test_dead_store_with_auth_off_fails_open() -> None:
    metadata = InMemoryMetadataRepository()
    metadata.available = False
    admission = await gate(False, metadata).admit({})
    assert admission.rejection is None and admission.tenant_id == DEFAULT_TENANT_ID
