"""Compliance reports (soc2, gdpr, hipaa, owasp_llm_top10): requested through the API, built by the report actor.

Overflow policy: a bounded queue of reports waiting to be built; when it is full a new request is refused (503,
retry later) rather than stored pending with nobody to build it. A report is built from aggregates the stores
compute (usage, finding counts) and the audit log; a build that fails or takes longer than ``BUILD_TIMEOUT_S`` is
stored ``failed`` with the reason. At startup, reports a restart left ``pending`` are marked ``failed``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from typing import Any

import attrs
import trio

from domain.errors import Busy, Invalid, NotFound
from domain.queries import AuditQuery, Page
from domain.reports import ComplianceReport, ReportInputs, ReportStatus, build_content, parse_report_request
from domain.tenancy import AuditEvent, Caller
from domain.usage import UsageDimension, UsageQuery
from ports.repositories import MetadataRepository, ReportRepository, TraceRepository

log = logging.getLogger("llmtrace.reports")

REPORT_QUEUE_CAPACITY = 32
BUILD_TIMEOUT_S = 300.0
MAX_AUDIT_EVENTS = 100_000


class ComplianceReports:
    def __init__(
        self,
        reports: ReportRepository,
        traces: TraceRepository,
        metadata: MetadataRepository,
        queue: trio.MemorySendChannel[ComplianceReport] | None = None,
    ) -> None:
        self._reports = reports
        self._traces = traces
        self._metadata = metadata
        self._queue = queue

    # -- the API side -----------------------------------------------------------------------------------------
    async def request(self, caller: Caller, body: Mapping[str, Any]) -> ComplianceReport:
        try:
            report_type, start, end = parse_report_request(body)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        report = ComplianceReport(
            id=str(uuid.uuid4()),
            tenant_id=caller.tenant_id,
            report_type=report_type,
            status=ReportStatus.PENDING,
            period_start=start,
            period_end=end,
            created_at=dt.datetime.now(dt.UTC),
        )
        if self._queue is None:
            raise Busy("report generation is not running")
        stats = self._queue.statistics()
        if stats.current_buffer_used >= stats.max_buffer_size:
            raise Busy(f"{stats.current_buffer_used} reports are waiting to be built; retry shortly")
        await self._reports.save_report(report)
        try:
            self._queue.send_nowait(report)  # others may have filled the queue while the report was stored
        except trio.WouldBlock:
            await self._reports.save_report(
                attrs.evolve(report, status=ReportStatus.FAILED, error="too many reports waiting to be built")
            )
            raise Busy("too many reports are waiting to be built; retry shortly") from None
        return report

    async def get(self, caller: Caller, report_id: str) -> ComplianceReport:
        report = await self._reports.get_report(caller.tenant_id, report_id)
        if report is None:
            raise NotFound(f"report {report_id} not found")
        return report

    async def list_reports(self, caller: Caller, limit: int, offset: int) -> Page[ComplianceReport]:
        return await self._reports.list_reports(caller.tenant_id, limit, offset)

    # -- the actor side ---------------------------------------------------------------------------------------
    async def fail_interrupted(self) -> int:
        """Reports a restart left pending are failed, not left pending for ever."""
        pending = await self._reports.pending_reports()
        for report in pending:
            await self._reports.save_report(
                attrs.evolve(
                    report,
                    status=ReportStatus.FAILED,
                    completed_at=dt.datetime.now(dt.UTC),
                    error="interrupted: the proxy restarted before the report was built; request it again",
                )
            )
        return len(pending)

    async def build(self, report: ComplianceReport) -> ComplianceReport:
        """Build and store the report; a failure or a timeout is stored as ``failed`` with the reason."""
        finished: ComplianceReport | None = None
        with trio.move_on_after(BUILD_TIMEOUT_S):
            try:
                content = build_content(report.report_type, await self._inputs(report))
                finished = attrs.evolve(
                    report, status=ReportStatus.COMPLETED, completed_at=dt.datetime.now(dt.UTC), content=content
                )
            except Exception as exc:
                log.exception("report %s failed", report.id)
                finished = attrs.evolve(
                    report, status=ReportStatus.FAILED, completed_at=dt.datetime.now(dt.UTC), error=str(exc)
                )
        if finished is None:
            finished = attrs.evolve(
                report,
                status=ReportStatus.FAILED,
                completed_at=dt.datetime.now(dt.UTC),
                error=f"the report took longer than {BUILD_TIMEOUT_S:g} s to build",
            )
        await self._reports.save_report(finished)
        return finished

    async def _inputs(self, report: ComplianceReport) -> ReportInputs:
        tenant, start, end = report.tenant_id, report.period_start, report.period_end

        async def grouped(dimension: UsageDimension) -> dict[str, int]:
            rows = await self._traces.usage(
                UsageQuery(tenant_id=tenant, group_by=(dimension,), start_time=start, end_time=end)
            )
            return {str(r.group[dimension.value]): r.requests for r in rows}

        totals = await self._traces.usage(UsageQuery(tenant_id=tenant, start_time=start, end_time=end))
        return ReportInputs(
            audit_events=await self._audit_events(tenant, start, end),
            findings=await self._traces.finding_counts(tenant, start, end),
            requests=totals[0].requests if totals else 0,
            errors=totals[0].errors if totals else 0,
            by_provider=await grouped(UsageDimension.PROVIDER),
            by_model=await grouped(UsageDimension.MODEL),
            by_operation=await grouped(UsageDimension.OPERATION),
            credentials=sorted(k for k in await grouped(UsageDimension.API_KEY) if k != "None"),
        )

    async def _audit_events(self, tenant: str, start: dt.datetime, end: dt.datetime) -> list[AuditEvent]:
        events: list[AuditEvent] = []
        while len(events) < MAX_AUDIT_EVENTS:
            page = await self._metadata.query_audit_events(
                AuditQuery(tenant_id=tenant, start_time=start, end_time=end, limit=1000, offset=len(events))
            )
            events += [e for e in page.items if e.timestamp < end]
            if len(page.items) < 1000:
                break
        return events
