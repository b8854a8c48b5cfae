"""The contract every compliance report store passes: in memory, SQLite (lite), PostgreSQL (production)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from adapters.storage.reports import InMemoryReportRepository, SqliteReportRepository
from adapters.storage.sqlite import SqliteTraceRepository
from domain.reports import ComplianceReport, ReportStatus, ReportType
from ports.repositories import ReportRepository
from tests.contract.postgres import fresh_postgres_store

T0 = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.services)])
async def reports(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ReportRepository]:
    if request.param == "memory":
        yield InMemoryReportRepository()
    elif request.param == "sqlite":
        traces = SqliteTraceRepository.open(str(tmp_path / "reports.db"))
        yield SqliteReportRepository(traces.engine)
        await traces.close()
    else:
        from adapters.storage.reports import PostgresReportRepository

        async with fresh_postgres_store() as database:
            yield PostgresReportRepository(database)


def report(tenant: str, minute: int = 0, **fields: object) -> ComplianceReport:
    values: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "report_type": ReportType.SOC2,
        "status": ReportStatus.PENDING,
        "period_start": T0 - dt.timedelta(days=30),
        "period_end": T0,
        "created_at": T0 + dt.timedelta(minutes=minute),
    }
    values.update(fields)
    return ComplianceReport(**values)  # type: ignore[arg-type]


async def test_a_report_goes_from_pending_to_completed_with_its_content(reports: ReportRepository) -> None:
    pending = report("t1")
    await reports.save_report(pending)
    assert await reports.get_report("t1", pending.id) == pending
    done = attrs.evolve(
        pending,
        status=ReportStatus.COMPLETED,
        completed_at=T0 + dt.timedelta(seconds=3),
        content={"report_type": "soc2", "data": {"total_audit_events": 3, "events_by_type": {"key_created": 3}}},
    )
    await reports.save_report(done)
    assert await reports.get_report("t1", pending.id) == done
    assert await reports.get_report("t2", pending.id) is None  # another tenant asking by id


async def test_list_is_the_tenants_own_newest_first_and_pending_spans_tenants(reports: ReportRepository) -> None:
    mine = [report("t1", minute) for minute in range(4)]
    for item in mine:
        await reports.save_report(item)
    failed = report("t2", 9, status=ReportStatus.FAILED, error="interrupted")
    await reports.save_report(failed)
    page = await reports.list_reports("t1", 2, 1)
    assert page.total == 4 and [r.id for r in page.items] == [mine[2].id, mine[1].id]
    assert {r.id for r in await reports.pending_reports()} == {r.id for r in mine}
