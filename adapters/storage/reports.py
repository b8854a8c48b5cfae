"""Compliance report stores: in memory, SQLite (lite profile, migration 6) and PostgreSQL (production, migration 4).

A report is kept as one JSON document (the JSON boundary's converter) beside the columns it is looked up by.
"""

from __future__ import annotations

import json

from sqlalchemy.engine import Connection, Engine

from adapters.codec import from_json, to_json
from adapters.storage.postgres import PostgresMetadataRepository
from adapters.storage.sqlite import SqliteStore, ts
from domain.queries import Page
from domain.reports import ComplianceReport, ReportStatus


def _document(report: ComplianceReport) -> str:
    return json.dumps(to_json(report))


def _report(document: str) -> ComplianceReport:
    return from_json(json.loads(document), ComplianceReport)


class InMemoryReportRepository:
    def __init__(self) -> None:
        self.reports: dict[str, ComplianceReport] = {}

    async def save_report(self, report: ComplianceReport) -> None:
        self.reports[report.id] = report

    async def get_report(self, tenant_id: str, report_id: str) -> ComplianceReport | None:
        report = self.reports.get(report_id)
        return report if report is not None and report.tenant_id == tenant_id else None

    async def list_reports(self, tenant_id: str, limit: int, offset: int) -> Page[ComplianceReport]:
        mine = sorted(
            (r for r in self.reports.values() if r.tenant_id == tenant_id),
            key=lambda r: (r.created_at, r.id),
            reverse=True,
        )
        return Page(items=mine[offset : offset + limit], total=len(mine), limit=limit, offset=offset)

    async def pending_reports(self) -> list[ComplianceReport]:
        return [r for r in self.reports.values() if r.status is ReportStatus.PENDING]


class SqliteReportRepository(SqliteStore):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)

    async def save_report(self, report: ComplianceReport) -> None:
        await self._run(
            lambda c: c.exec_driver_sql(
                "INSERT INTO compliance_reports (id, tenant_id, status, created_at, data) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET status = excluded.status, data = excluded.data",
                (report.id, report.tenant_id, report.status.value, ts(report.created_at), _document(report)),
            ),
            write=True,
        )

    async def get_report(self, tenant_id: str, report_id: str) -> ComplianceReport | None:
        def read(c: Connection) -> ComplianceReport | None:
            row = c.exec_driver_sql(
                "SELECT data FROM compliance_reports WHERE id = ? AND tenant_id = ?", (report_id, tenant_id)
            ).first()
            return None if row is None else _report(row[0])

        return await self._run(read)

    async def list_reports(self, tenant_id: str, limit: int, offset: int) -> Page[ComplianceReport]:
        def read(c: Connection) -> Page[ComplianceReport]:
            total = c.exec_driver_sql(
                "SELECT count(*) FROM compliance_reports WHERE tenant_id = ?", (tenant_id,)
            ).scalar_one()
            rows = c.exec_driver_sql(
                "SELECT data FROM compliance_reports WHERE tenant_id = ? ORDER BY created_at DESC, id DESC "
                "LIMIT ? OFFSET ?",
                (tenant_id, limit, offset),
            )
            return Page(items=[_report(r[0]) for r in rows], total=total, limit=limit, offset=offset)

        return await self._run(read)

    async def pending_reports(self) -> list[ComplianceReport]:
        return await self._run(
            lambda c: [
                _report(r[0]) for r in c.exec_driver_sql("SELECT data FROM compliance_reports WHERE status = 'pending'")
            ]
        )


class PostgresReportRepository:
    def __init__(self, database: PostgresMetadataRepository) -> None:
        self._db = database

    async def save_report(self, report: ComplianceReport) -> None:
        await self._db.call(
            "execute",
            "INSERT INTO compliance_reports (id, tenant_id, status, created_at, data) VALUES ($1, $2, $3, $4, "
            "$5::jsonb) ON CONFLICT (id) DO UPDATE SET status = excluded.status, data = excluded.data",
            report.id,
            report.tenant_id,
            report.status.value,
            report.created_at,
            _document(report),
        )

    async def get_report(self, tenant_id: str, report_id: str) -> ComplianceReport | None:
        data = await self._db.call(
            "fetchval", "SELECT data FROM compliance_reports WHERE id = $1 AND tenant_id = $2", report_id, tenant_id
        )
        return None if data is None else _report(data)

    async def list_reports(self, tenant_id: str, limit: int, offset: int) -> Page[ComplianceReport]:
        total = await self._db.call(
            "fetchval", "SELECT count(*) FROM compliance_reports WHERE tenant_id = $1", tenant_id
        )
        rows = await self._db.call(
            "fetch",
            "SELECT data FROM compliance_reports WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC "
            "LIMIT $2 OFFSET $3",
            tenant_id,
            limit,
            offset,
        )
        return Page(items=[_report(r["data"]) for r in rows], total=int(total), limit=limit, offset=offset)

    async def pending_reports(self) -> list[ComplianceReport]:
        rows = await self._db.call("fetch", "SELECT data FROM compliance_reports WHERE status = 'pending'")
        return [_report(r["data"]) for r in rows]
