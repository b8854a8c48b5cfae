"""The contract every alert store passes: in memory (the fake), SQLite (lite profile), PostgreSQL (production)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from adapters.storage.memory_alerts import InMemoryAlertRepository
from adapters.storage.sqlite import SqliteTraceRepository
from adapters.storage.sqlite_alerts import SqliteAlertRepository
from domain.alerting import Alert, AlertStatus
from domain.findings import SecurityFinding, Severity
from ports.alerting import AlertRepository
from tests.contract.postgres import fresh_postgres_store

T0 = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.services)])
async def alerts(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AlertRepository]:
    if request.param == "memory":
        yield InMemoryAlertRepository()
    elif request.param == "sqlite":
        traces = SqliteTraceRepository.open(str(tmp_path / "alerts.db"))
        yield SqliteAlertRepository(traces.engine)
        await traces.close()
    else:
        from adapters.storage.postgres_alerts import PostgresAlertRepository

        async with fresh_postgres_store() as database:
            yield PostgresAlertRepository(database)


def alert(tenant: str, minute: int, finding_type: str = "prompt_injection", **fields: object) -> Alert:
    finding = SecurityFinding(
        id=str(uuid.uuid4()),
        severity=Severity.HIGH,
        finding_type=finding_type,
        description="Ignore previous instructions",
        confidence=0.9,
        location="request.prompt",
        metadata={"pattern": "ignore_previous"},
    )
    values: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "trace_id": str(uuid.uuid4()),
        "span_id": str(uuid.uuid4()),
        "created_at": T0 + dt.timedelta(minutes=minute),
        "severity": Severity.HIGH,
        "security_score": 80,
        "findings": (finding,),
        "channels": ("hook",),
    }
    values.update(fields)
    return Alert(**values)  # type: ignore[arg-type]


async def test_round_trip_keeps_every_field(alerts: AlertRepository) -> None:
    original = alert(
        "t1",
        0,
        suppressed_count=3,
        status=AlertStatus.ACKNOWLEDGED,
        acknowledged_at=T0 + dt.timedelta(minutes=5),
        acknowledged_by="api-key:k1",
        escalation_level=1,
        escalated_at=T0 + dt.timedelta(minutes=4),
    )
    await alerts.save(original)
    assert await alerts.get("t1", original.id) == original


async def test_save_replaces_and_tenants_never_see_each_other(alerts: AlertRepository) -> None:
    mine = alert("t1", 0)
    await alerts.save(mine)
    await alerts.save(attrs.evolve(mine, status=AlertStatus.ACKNOWLEDGED, acknowledged_by="me"))
    stored = await alerts.get("t1", mine.id)
    assert stored is not None and stored.status is AlertStatus.ACKNOWLEDGED and stored.acknowledged_by == "me"
    assert await alerts.get("t2", mine.id) is None  # another tenant asking by id
    assert (await alerts.list_alerts("t2", 10, 0)).total == 0


async def test_list_is_newest_first_and_paged(alerts: AlertRepository) -> None:
    saved = [alert("t1", minute) for minute in range(5)]
    for item in saved:
        await alerts.save(item)
    await alerts.save(alert("t2", 10))
    page = await alerts.list_alerts("t1", 2, 1)
    assert page.total == 5 and (page.limit, page.offset) == (2, 1)
    assert [a.id for a in page.items] == [saved[3].id, saved[2].id]


async def test_due_for_escalation_is_open_and_old_enough_oldest_first(alerts: AlertRepository) -> None:
    old_open = alert("t1", 0)
    older_open_other_tenant = alert("t2", -5)
    acknowledged = alert("t1", 1, status=AlertStatus.ACKNOWLEDGED)
    escalated = alert("t1", 2, status=AlertStatus.ESCALATED)
    recent = alert("t1", 30)
    for item in (old_open, older_open_other_tenant, acknowledged, escalated, recent):
        await alerts.save(item)
    due = await alerts.due_for_escalation(T0 + dt.timedelta(minutes=10))
    assert [a.id for a in due] == [older_open_other_tenant.id, old_open.id]
