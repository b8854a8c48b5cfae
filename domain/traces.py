"""Traces, spans and agent actions: the value objects every exchange becomes (reference section 8)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

import attrs

from domain.findings import SecurityFinding
from domain.json_text import clean_text
from domain.providers import Provider

MAX_ACTION_TEXT_BYTES = 4096


class ActionType(enum.Enum):
    TOOL_CALL = "tool_call"
    SKILL_INVOCATION = "skill_invocation"
    COMMAND_EXECUTION = "command_execution"
    WEB_ACCESS = "web_access"
    FILE_ACCESS = "file_access"


class AnalysisStatus(enum.Enum):
    """Whether the security analysis ran, so that "no findings" never silently means "not analysed"."""

    PENDING = "pending"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    TIMED_OUT = "timed_out"
    FAILED = "failed"
    DISABLED = "disabled"


def truncate_utf8(text: str, limit: int = MAX_ACTION_TEXT_BYTES) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", errors="ignore")


@attrs.frozen(kw_only=True)
class AgentAction:
    id: str
    action_type: ActionType
    name: str
    timestamp: dt.datetime
    arguments: str | None = None
    result: str | None = None
    duration_ms: int | None = None
    success: bool = True
    exit_code: int | None = None
    http_method: str | None = None
    http_status: int | None = None
    file_operation: str | None = None
    metadata: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class SpanEvent:
    id: str
    timestamp: dt.datetime
    event_type: str
    description: str
    data: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class TraceSpan:
    span_id: str
    trace_id: str
    tenant_id: str
    operation_name: str
    start_time: dt.datetime
    provider: Provider
    model_name: str
    prompt: str
    parent_span_id: str | None = None
    end_time: dt.datetime | None = None
    response: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    tokens_estimated: bool = False
    time_to_first_token_ms: int | None = None
    duration_ms: int | None = None
    status_code: int | None = None
    error_message: str | None = None
    estimated_cost_usd: float | None = None
    security_score: int | None = None
    security_findings: tuple[SecurityFinding, ...] = ()
    analysis_status: AnalysisStatus = AnalysisStatus.PENDING
    tags: Mapping[str, str] = attrs.field(factory=dict)
    events: tuple[SpanEvent, ...] = ()
    agent_actions: tuple[AgentAction, ...] = ()
    agent_id: str | None = None
    end_user_id: str | None = None  # the application's user: X-LLMTrace-User-ID, or the body's user / metadata
    request_metadata: Mapping[str, str] = attrs.field(factory=dict)  # the request body's ``metadata`` (bounded)
    credential: str | None = None  # display prefix of the API key or token that made the call
    cached_prompt_tokens: int | None = None  # prompt tokens served from the provider's cache, when reported


@attrs.frozen(kw_only=True)
class TraceEvent:
    trace_id: str
    tenant_id: str
    created_at: dt.datetime
    spans: tuple[TraceSpan, ...]


def quarantined(span: TraceSpan, reason: str, *, strip: bool) -> TraceSpan:
    """A copy of a span the store refused, for storing instead of it (tagged ``quarantined`` with the reason).

    First every text is cleaned of what a store cannot encode; with ``strip`` the free text (prompt, response,
    actions, events) is dropped altogether, keeping the facts: who, when, which model, status, tokens, findings.
    """

    def clean(text: str | None) -> str | None:
        return None if text is None else clean_text(text)

    tags = {clean_text(k): clean_text(v) for k, v in span.tags.items()}
    tags["quarantined"] = truncate_utf8(clean_text(reason), 300)
    if strip:
        return attrs.evolve(
            span,
            prompt="[quarantined: the store refused this span's text]",
            response=None,
            error_message=clean(span.error_message),
            model_name=clean_text(span.model_name),
            operation_name=clean_text(span.operation_name),
            agent_actions=(),
            events=(),
            agent_id=clean(span.agent_id),
            tags=tags,
            security_findings=tuple(
                attrs.evolve(f, description=clean_text(f.description), metadata={}) for f in span.security_findings
            ),
        )
    return attrs.evolve(
        span,
        prompt=clean_text(span.prompt),
        response=clean(span.response),
        error_message=clean(span.error_message),
        model_name=clean_text(span.model_name),
        operation_name=clean_text(span.operation_name),
        agent_id=clean(span.agent_id),
        agent_actions=tuple(
            attrs.evolve(
                a,
                name=clean_text(a.name),
                arguments=clean(a.arguments),
                result=clean(a.result),
                metadata={clean_text(k): clean_text(v) for k, v in a.metadata.items()},
            )
            for a in span.agent_actions
        ),
        tags=tags,
    )
