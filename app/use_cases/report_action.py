"""``POST /api/v1/traces/{id}/actions``: agents report what they did; the action is analysed and stored."""

from __future__ import annotations

import attrs

from domain.findings import security_score
from domain.traces import AgentAction
from ports.repositories import TraceRepository
from ports.security import SecurityAnalyzer


class ActionReports:
    def __init__(self, traces: TraceRepository, analyzer: SecurityAnalyzer) -> None:
        self._traces = traces
        self._analyzer = analyzer

    async def report(self, tenant_id: str, trace_id: str, action: AgentAction) -> bool:
        trace = await self._traces.get_trace(tenant_id, trace_id)
        if trace is None or not trace.spans:
            return False
        span = trace.spans[0]
        findings = (*span.security_findings, *self._analyzer.analyze_actions([action]))
        updated = attrs.evolve(
            span,
            agent_actions=(*span.agent_actions, action),
            security_findings=findings,
            security_score=security_score(findings),
        )
        await self._traces.store_spans([updated])
        return True
