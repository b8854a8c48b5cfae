"""In-memory trace store: the `memory` profile, and the fake the domain tests use (observable state)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.queries import ActionSummary, Page, StorageStats, TraceQuery, summarize_actions
from domain.reports import FindingCount
from domain.traces import TraceEvent, TraceSpan
from domain.usage import MAX_USAGE_ROWS, UsageQuery, UsageRow, in_period, usage_rows
from ports.repositories import StorageUnavailable


def span_matches(span: TraceSpan, query: TraceQuery) -> bool:
    if span.tenant_id != query.tenant_id:
        return False
    if query.start_time is not None and span.start_time < query.start_time:
        return False
    if query.end_time is not None and span.start_time > query.end_time:
        return False
    if query.provider is not None and span.provider is not query.provider:
        return False
    if query.model_name is not None and span.model_name != query.model_name:
        return False
    if query.agent_id is not None and span.agent_id != query.agent_id:
        return False
    if query.end_user_id is not None and span.end_user_id != query.end_user_id:
        return False
    if query.operation_name is not None and span.operation_name != query.operation_name:
        return False
    if query.trace_id is not None and span.trace_id != query.trace_id:
        return False
    if query.has_findings and not span.security_findings:
        return False
    if query.finding_type is not None and all(f.finding_type != query.finding_type for f in span.security_findings):
        return False
    if query.finding_severity is not None and all(
        f.severity.value != query.finding_severity for f in span.security_findings
    ):
        return False
    if query.min_security_score is not None and (span.security_score or 0) < query.min_security_score:
        return False
    return not (query.max_security_score is not None and (span.security_score or 0) > query.max_security_score)


class InMemoryTraceRepository:
    def __init__(self) -> None:
        self.spans: dict[tuple[str, str], TraceSpan] = {}
        self.available = True  # tests flip this to simulate an outage
        self.batches_written = 0

    def _check(self) -> None:
        if not self.available:
            raise StorageUnavailable("in-memory store marked unavailable")

    async def store_spans(self, spans: Sequence[TraceSpan]) -> None:
        self._check()
        for span in spans:
            self.spans[(span.tenant_id, span.span_id)] = span
        self.batches_written += 1

    def _trace(self, tenant_id: str, trace_id: str) -> TraceEvent | None:
        spans = sorted(
            (s for s in self.spans.values() if s.tenant_id == tenant_id and s.trace_id == trace_id),
            key=lambda s: s.start_time,
        )
        if not spans:
            return None
        return TraceEvent(trace_id=trace_id, tenant_id=tenant_id, created_at=spans[0].start_time, spans=tuple(spans))

    async def query_traces(self, query: TraceQuery) -> Page[TraceEvent]:
        self._check()
        trace_ids = {s.trace_id for s in self.spans.values() if span_matches(s, query)}
        traces = [t for t in (self._trace(query.tenant_id, tid) for tid in trace_ids) if t is not None]
        traces.sort(key=lambda t: (t.created_at, t.trace_id), reverse=True)
        return Page(
            items=traces[query.offset : query.offset + query.limit],
            total=len(traces),
            limit=query.limit,
            offset=query.offset,
        )

    async def query_spans(self, query: TraceQuery) -> Page[TraceSpan]:
        self._check()
        spans = [s for s in self.spans.values() if span_matches(s, query)]
        spans.sort(key=lambda s: (s.start_time, s.span_id), reverse=True)
        return Page(
            items=spans[query.offset : query.offset + query.limit],
            total=len(spans),
            limit=query.limit,
            offset=query.offset,
        )

    async def get_trace(self, tenant_id: str, trace_id: str) -> TraceEvent | None:
        self._check()
        return self._trace(tenant_id, trace_id)

    async def get_span(self, tenant_id: str, span_id: str) -> TraceSpan | None:
        self._check()
        return self.spans.get((tenant_id, span_id))

    async def usage(self, query: UsageQuery) -> list[UsageRow]:
        self._check()
        return usage_rows(self.spans.values(), query)[:MAX_USAGE_ROWS]

    async def finding_counts(
        self, tenant_id: str, start: dt.datetime | None, end: dt.datetime | None
    ) -> list[FindingCount]:
        self._check()
        counts: dict[tuple[str, str], int] = {}
        query = UsageQuery(tenant_id=tenant_id, start_time=start, end_time=end)
        for span in self.spans.values():
            if span.tenant_id == tenant_id and in_period(span, query):
                for finding in span.security_findings:
                    key = (finding.finding_type, finding.severity.value)
                    counts[key] = counts.get(key, 0) + 1
        return [FindingCount(finding_type=t, severity=s, count=n) for (t, s), n in sorted(counts.items())]

    async def stats(self, tenant_id: str | None) -> StorageStats:
        self._check()
        spans = [s for s in self.spans.values() if tenant_id is None or s.tenant_id == tenant_id]
        traces: dict[tuple[str, str], TraceSpan] = {}
        for span in spans:
            key = (span.tenant_id, span.trace_id)
            if key not in traces or span.start_time < traces[key].start_time:
                traces[key] = span
        created = [s.start_time for s in traces.values()]
        return StorageStats(
            total_traces=len(traces),
            total_spans=len(spans),
            storage_size_bytes=sum(len(s.prompt) + len(s.response or "") for s in spans),
            oldest_trace=min(created) if created else None,
            newest_trace=max(created) if created else None,
        )

    async def action_summary(self, query: TraceQuery) -> ActionSummary:
        self._check()
        spans = [s for s in self.spans.values() if span_matches(s, query)]
        return summarize_actions(
            len(spans),
            [[(a.action_type.value, a.name) for a in s.agent_actions] for s in spans if s.agent_actions],
        )

    async def health_check(self) -> None:
        self._check()

    async def close(self) -> None:
        return None
