"""Report actor: builds the compliance reports the API queued, one at a time, off the request path.

At start it marks reports a restart left pending as failed; it ends when the HTTP side closes the queue. A store
that fails while a report is stored is logged and counted; the actor goes on with the next report.
"""

from __future__ import annotations

import logging

import trio

from app.use_cases.compliance import ComplianceReports
from domain.reports import ComplianceReport
from ports.telemetry import Telemetry

log = logging.getLogger("llmtrace.reports")


async def run_reports(
    queue: trio.MemoryReceiveChannel[ComplianceReport],
    reports: ComplianceReports,
    telemetry: Telemetry,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    async with queue:
        task_status.started()
        try:
            failed = await reports.fail_interrupted()
            if failed:
                log.warning("%d compliance reports a restart interrupted are marked failed", failed)
        except Exception:
            log.exception("could not mark interrupted reports failed")
            telemetry.pipeline_failure("reports")
        async for report in queue:
            try:
                await reports.build(report)
            except Exception:
                log.exception("report %s could not be stored", report.id)
                telemetry.pipeline_failure("reports")
