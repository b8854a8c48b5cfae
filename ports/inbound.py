"""Driving ports: what the HTTP adapter calls into."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from domain.alerting import Alert
from domain.capture import CompletedExchange
from domain.exchange import RequestReading, RequestSummary
from domain.findings import SecurityFinding
from domain.protection import ProtectionDecision
from domain.queries import AuditQuery, Page
from domain.reports import ComplianceReport
from domain.security.enforcement import EnforcementDecision
from domain.tenancy import (
    Admission,
    ApiKey,
    AuditEvent,
    Caller,
    CreatedKey,
    CreatedTenant,
    Rejection,
    Tenant,
    TenantSettings,
)
from domain.traces import AgentAction, TraceSpan
from domain.traffic import CostSnapshot


class ExchangeRecorder(Protocol):
    def record(self, exchange: CompletedExchange) -> bool:
        """Hand a finished exchange to the capture pipeline without waiting. Never raises.

        Returns False when the pipeline is full and the exchange was dropped (and counted).
        """


class RequestEnforcer(Protocol):
    active: bool

    async def check(self, request: RequestReading) -> EnforcementDecision:
        """Analyse a request before it is forwarded (its body read once, shared with capture). Fails open (returns
        a ``log`` decision) on error or timeout."""


class OutputStreamGuard(Protocol):
    findings: list[SecurityFinding]
    stopped: bool

    def feed(self, chunk: bytes) -> bool:
        """True when the stream must end before this chunk is forwarded."""

    def finish(self) -> None: ...

    def termination(self) -> bytes:
        """SSE events that end the stream cleanly for the client's SDK."""


class OutputStreamGuards(Protocol):
    def open(self) -> OutputStreamGuard | None:
        """A guard for one SSE response, or None when streaming checks are off."""


class ActionReporter(Protocol):
    async def report(self, tenant_id: str, trace_id: str, action: AgentAction) -> bool:
        """Append an agent action to the trace's first span, analyse it, store it. False if there is no such trace."""


class Authenticator(Protocol):
    enabled: bool

    async def for_api(self, headers: Mapping[bytes, bytes]) -> Caller:
        """Who is calling the REST API; raises AuthError (401)."""


class ProxyAdmission(Protocol):
    enabled: bool

    async def admit(self, headers: Mapping[bytes, bytes]) -> Admission:
        """The tenant of a proxied request, or why it is refused (401, 429, 503) before anything is forwarded."""

    def check_tokens(self, admission: Admission, request: RequestSummary) -> Rejection | None:
        """The admission's token cap against the request as read (429 when exceeded)."""

    def is_proxy_credential(self, authorization: bytes) -> bool:
        """Whether an ``Authorization`` value is an LLMTrace credential (never forwarded to the provider)."""


class RequestProtector(Protocol):
    async def protect(self, tenant_id: str, path: str, body: bytes, complete: bool) -> ProtectionDecision | None:
        """Under the tenant's data-protection policy: the body to forward and what to restore, or a refusal;
        None when no policy applies."""


class CostReporter(Protocol):
    async def current_costs(self, tenant_id: str, agent_id: str | None) -> CostSnapshot | None:
        """Spend and limits per budget window of (tenant, agent); None when cost caps are off."""


class Administration(Protocol):
    """Tenants, settings, API keys and audit (raises AuthError, Forbidden, NotFound, Invalid)."""

    async def create_tenant(self, caller: Caller, name: str, plan: str, config: Mapping[str, Any]) -> CreatedTenant: ...

    async def list_tenants(self, caller: Caller) -> list[Tenant]: ...

    async def get_tenant(self, caller: Caller, tenant_id: str) -> Tenant: ...

    async def update_tenant(self, caller: Caller, tenant_id: str, changes: Mapping[str, Any]) -> Tenant: ...

    async def delete_tenant(self, caller: Caller, tenant_id: str) -> None: ...

    async def reset_token(self, caller: Caller, tenant_id: str) -> str: ...

    async def get_settings(self, caller: Caller, tenant_id: str) -> TenantSettings: ...

    async def put_settings(self, caller: Caller, tenant_id: str, data: Mapping[str, Any]) -> TenantSettings: ...

    async def create_key(self, caller: Caller, tenant_id: str | None, name: str, role_name: str) -> CreatedKey: ...

    async def list_keys(self, caller: Caller) -> list[ApiKey]: ...

    async def revoke_key(self, caller: Caller, key_id: str) -> None: ...

    async def audit_events(self, caller: Caller, query: AuditQuery) -> Page[AuditEvent]: ...


class AlertDeskPort(Protocol):
    async def list_alerts(self, caller: Caller, limit: int, offset: int) -> Page[Alert]: ...

    async def get(self, caller: Caller, alert_id: str) -> Alert: ...

    async def acknowledge(self, caller: Caller, alert_id: str) -> Alert: ...


class SpanIngestPort(Protocol):
    async def submit(self, items: Sequence[tuple[TraceSpan, str]]) -> int:
        """Queue (span, analysis text) pairs for analysis and storage; returns how many were taken."""


class ReportDeskPort(Protocol):
    async def request(self, caller: Caller, body: Mapping[str, Any]) -> ComplianceReport:
        """Queue a report (raises Invalid for a bad body, Busy when too many are waiting)."""

    async def get(self, caller: Caller, report_id: str) -> ComplianceReport: ...

    async def list_reports(self, caller: Caller, limit: int, offset: int) -> Page[ComplianceReport]: ...
