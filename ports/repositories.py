"""Storage ports, in domain terms. Every adapter passes tests/contract/test_trace_repository_contract.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.queries import ActionSummary, Page, StorageStats, TraceQuery
from domain.traces import TraceEvent, TraceSpan


class StorageUnavailable(Exception):
    """The store could not be reached or refused the operation; the caller may retry."""


class TraceRepository(Protocol):
    async def store_spans(self, spans: Sequence[TraceSpan]) -> None:
        """Upsert a batch of spans (and their traces) in one transaction. Storing the same span twice keeps one."""

    async def query_traces(self, query: TraceQuery) -> Page[TraceEvent]:
        """Traces with at least one matching span, newest first, each with all its spans (oldest first)."""

    async def query_spans(self, query: TraceQuery) -> Page[TraceSpan]:
        """Matching spans, newest first."""

    async def get_trace(self, tenant_id: str, trace_id: str) -> TraceEvent | None: ...

    async def get_span(self, tenant_id: str, span_id: str) -> TraceSpan | None: ...

    async def stats(self, tenant_id: str | None) -> StorageStats:
        """Counts for one tenant, or all tenants when ``tenant_id`` is None."""

    async def action_summary(self, query: TraceQuery) -> ActionSummary:
        """Agent actions of the spans matching ``query`` (tenant, model, operation), counted by type and name."""

    async def health_check(self) -> None:
        """Raise StorageUnavailable when the store cannot serve."""

    async def close(self) -> None: ...
