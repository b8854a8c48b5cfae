"""JSON shapes of domain objects, shared by the REST API and the stores that keep JSON columns.

Field names are the reference's, so users of the original API can switch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from domain.alerting import Alert, AlertStatus
from domain.findings import SecurityFinding, Severity
from domain.providers import provider_from_name
from domain.queries import StorageStats
from domain.traces import ActionType, AgentAction, AnalysisStatus, SpanEvent, TraceEvent, TraceSpan


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def action_to_json(action: AgentAction) -> dict[str, Any]:
    return {
        "id": action.id,
        "action_type": action.action_type.value,
        "name": action.name,
        "arguments": action.arguments,
        "result": action.result,
        "duration_ms": action.duration_ms,
        "success": action.success,
        "exit_code": action.exit_code,
        "http_method": action.http_method,
        "http_status": action.http_status,
        "file_operation": action.file_operation,
        "timestamp": iso(action.timestamp),
        "metadata": dict(action.metadata),
    }


def action_from_json(data: Mapping[str, Any]) -> AgentAction:
    return AgentAction(
        id=str(data["id"]),
        action_type=ActionType(data["action_type"]),
        name=str(data.get("name") or ""),
        arguments=data.get("arguments"),
        result=data.get("result"),
        duration_ms=data.get("duration_ms"),
        success=bool(data.get("success", True)),
        exit_code=data.get("exit_code"),
        http_method=data.get("http_method"),
        http_status=data.get("http_status"),
        file_operation=data.get("file_operation"),
        timestamp=parse_time(data.get("timestamp")) or dt.datetime.now(dt.UTC),
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
    )


def event_to_json(event: SpanEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "timestamp": iso(event.timestamp),
        "event_type": event.event_type,
        "description": event.description,
        "data": dict(event.data),
    }


def event_from_json(data: Mapping[str, Any]) -> SpanEvent:
    return SpanEvent(
        id=str(data["id"]),
        timestamp=parse_time(data.get("timestamp")) or dt.datetime.now(dt.UTC),
        event_type=str(data.get("event_type") or ""),
        description=str(data.get("description") or ""),
        data=dict(data.get("data") or {}),
    )


def span_to_json(span: TraceSpan) -> dict[str, Any]:
    return {
        "span_id": span.span_id,
        "trace_id": span.trace_id,
        "parent_span_id": span.parent_span_id,
        "tenant_id": span.tenant_id,
        "operation_name": span.operation_name,
        "start_time": iso(span.start_time),
        "end_time": iso(span.end_time),
        "provider": span.provider.value,
        "model_name": span.model_name,
        "prompt": span.prompt,
        "response": span.response,
        "prompt_tokens": span.prompt_tokens,
        "completion_tokens": span.completion_tokens,
        "total_tokens": span.total_tokens,
        "tokens_estimated": span.tokens_estimated,
        "time_to_first_token_ms": span.time_to_first_token_ms,
        "duration_ms": span.duration_ms,
        "status_code": span.status_code,
        "error_message": span.error_message,
        "estimated_cost_usd": span.estimated_cost_usd,
        "security_score": span.security_score,
        "security_findings": [f.to_json() for f in span.security_findings],
        "analysis_status": span.analysis_status.value,
        "tags": dict(span.tags),
        "events": [event_to_json(e) for e in span.events],
        "agent_actions": [action_to_json(a) for a in span.agent_actions],
        "agent_id": span.agent_id,
    }


def span_from_json(data: Mapping[str, Any]) -> TraceSpan:
    start = parse_time(data.get("start_time"))
    assert start is not None
    return TraceSpan(
        span_id=str(data["span_id"]),
        trace_id=str(data["trace_id"]),
        parent_span_id=data.get("parent_span_id"),
        tenant_id=str(data["tenant_id"]),
        operation_name=str(data.get("operation_name") or ""),
        start_time=start,
        end_time=parse_time(data.get("end_time")),
        provider=provider_from_name(str(data.get("provider") or "custom")),
        model_name=str(data.get("model_name") or ""),
        prompt=str(data.get("prompt") or ""),
        response=data.get("response"),
        prompt_tokens=data.get("prompt_tokens"),
        completion_tokens=data.get("completion_tokens"),
        total_tokens=data.get("total_tokens"),
        tokens_estimated=bool(data.get("tokens_estimated", False)),
        time_to_first_token_ms=data.get("time_to_first_token_ms"),
        duration_ms=data.get("duration_ms"),
        status_code=data.get("status_code"),
        error_message=data.get("error_message"),
        estimated_cost_usd=data.get("estimated_cost_usd"),
        security_score=data.get("security_score"),
        security_findings=tuple(SecurityFinding.from_json(f) for f in data.get("security_findings") or []),
        analysis_status=AnalysisStatus(data.get("analysis_status") or "pending"),
        tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
        events=tuple(event_from_json(e) for e in data.get("events") or []),
        agent_actions=tuple(action_from_json(a) for a in data.get("agent_actions") or []),
        agent_id=data.get("agent_id"),
    )


def trace_to_json(trace: TraceEvent) -> dict[str, Any]:
    return {
        "trace_id": trace.trace_id,
        "tenant_id": trace.tenant_id,
        "created_at": iso(trace.created_at),
        "spans": [span_to_json(s) for s in trace.spans],
    }


def stats_to_json(stats: StorageStats) -> dict[str, Any]:
    return {
        "total_traces": stats.total_traces,
        "total_spans": stats.total_spans,
        "storage_size_bytes": stats.storage_size_bytes,
        "oldest_trace": iso(stats.oldest_trace),
        "newest_trace": iso(stats.newest_trace),
    }


def alert_to_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "tenant_id": alert.tenant_id,
        "trace_id": alert.trace_id,
        "span_id": alert.span_id,
        "created_at": iso(alert.created_at),
        "severity": alert.severity.value,
        "security_score": alert.security_score,
        "finding_types": alert.finding_types,
        "findings": [f.to_json() for f in alert.findings],
        "suppressed_count": alert.suppressed_count,
        "channels": list(alert.channels),
        "status": alert.status.value,
        "acknowledged_at": iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
        "escalated_at": iso(alert.escalated_at),
        "escalation_level": alert.escalation_level,
    }


def alert_from_json(data: Mapping[str, Any]) -> Alert:
    return Alert(
        id=str(data["id"]),
        tenant_id=str(data["tenant_id"]),
        trace_id=str(data["trace_id"]),
        span_id=str(data["span_id"]),
        created_at=parse_time(data["created_at"]) or dt.datetime.now(dt.UTC),
        severity=Severity.parse(str(data["severity"])),
        security_score=data.get("security_score"),
        findings=tuple(SecurityFinding.from_json(f) for f in data.get("findings") or []),
        suppressed_count=int(data.get("suppressed_count") or 0),
        channels=tuple(data.get("channels") or ()),
        status=AlertStatus(data.get("status") or "open"),
        acknowledged_at=parse_time(data.get("acknowledged_at")),
        acknowledged_by=data.get("acknowledged_by"),
        escalated_at=parse_time(data.get("escalated_at")),
        escalation_level=int(data.get("escalation_level") or 0),
    )
