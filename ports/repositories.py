"""Storage ports, in domain terms. Every adapter passes tests/contract/test_trace_repository_contract.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from domain.queries import ActionSummary, AuditQuery, Page, StorageStats, TraceQuery
from domain.reports import ComplianceReport, FindingCount
from domain.tenancy import ApiKey, AuditEvent, Tenant, TenantSettings
from domain.traces import TraceEvent, TraceSpan
from domain.usage import UsageQuery, UsageRow


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

    async def usage(self, query: UsageQuery) -> list[UsageRow]:
        """Usage grouped as asked, computed by the store (see ``domain.usage`` for the definitions)."""

    async def finding_counts(
        self, tenant_id: str, start: dt.datetime | None, end: dt.datetime | None
    ) -> list[FindingCount]:
        """Findings of the tenant's spans started in ``[start, end)``, counted per type and severity."""

    async def stats(self, tenant_id: str | None) -> StorageStats:
        """Counts for one tenant, or all tenants when ``tenant_id`` is None."""

    async def action_summary(self, query: TraceQuery) -> ActionSummary:
        """Agent actions of the spans matching ``query`` (tenant, model, operation), counted by type and name."""

    async def health_check(self) -> None:
        """Raise StorageUnavailable when the store cannot serve."""

    async def close(self) -> None: ...


class SpanSpill(Protocol):
    """Where spans that could not be written before shutdown wait for the next start (a local file)."""

    def save(self, spans: Sequence[TraceSpan]) -> None:
        """Append spans durably; raises OSError when they cannot be kept."""

    def take(self) -> list[TraceSpan]:
        """Every spilled span, removed from the spill (unreadable lines are skipped and counted in the log)."""


class MetadataRepository(Protocol):
    """Tenants, their settings, API keys and the audit trail. Secrets are stored only as hashes."""

    async def create_tenant(self, tenant: Tenant) -> None: ...

    async def get_tenant(self, tenant_id: str) -> Tenant | None: ...

    async def get_tenant_by_token_hash(self, token_hash: str) -> Tenant | None: ...

    async def list_tenants(self) -> list[Tenant]:
        """Newest first."""

    async def update_tenant(self, tenant: Tenant) -> None: ...

    async def delete_tenant(self, tenant_id: str) -> bool:
        """Deletes the tenant with its settings and API keys (its traces and audit trail stay)."""

    async def get_settings(self, tenant_id: str) -> TenantSettings | None: ...

    async def put_settings(self, settings: TenantSettings) -> None: ...

    async def create_api_key(self, key: ApiKey) -> None: ...

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        """Active (not revoked) keys only."""

    async def list_api_keys(self, tenant_id: str) -> list[ApiKey]:
        """Including revoked ones, newest first."""

    async def revoke_api_key(self, tenant_id: str, key_id: str, at: dt.datetime) -> bool:
        """False when the tenant has no such active key."""

    async def record_audit_event(self, event: AuditEvent) -> None: ...

    async def query_audit_events(self, query: AuditQuery) -> Page[AuditEvent]:
        """Newest first."""

    async def health_check(self) -> None: ...

    async def close(self) -> None: ...


class ReportRepository(Protocol):
    """Compliance reports: requested, built off the request path, kept for the tenant to read."""

    async def save_report(self, report: ComplianceReport) -> None:
        """Insert or replace."""

    async def get_report(self, tenant_id: str, report_id: str) -> ComplianceReport | None: ...

    async def list_reports(self, tenant_id: str, limit: int, offset: int) -> Page[ComplianceReport]:
        """Newest first."""

    async def pending_reports(self) -> list[ComplianceReport]:
        """Reports of every tenant still pending (to mark failed when a restart interrupted them)."""
