"""What operators ask of stored traces, in domain terms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Generic, TypeVar

import attrs

from domain.providers import Provider

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class TraceQuery:
    tenant_id: str
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    provider: Provider | None = None
    model_name: str | None = None
    operation_name: str | None = None
    agent_id: str | None = None
    end_user_id: str | None = None
    min_security_score: int | None = None
    max_security_score: int | None = None
    trace_id: str | None = None
    has_findings: bool = False
    finding_type: str | None = None
    finding_severity: str | None = None  # exact severity name, e.g. "High"
    limit: int = DEFAULT_PAGE_SIZE
    offset: int = 0


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int


@attrs.frozen(kw_only=True)
class StorageStats:
    total_traces: int
    total_spans: int
    storage_size_bytes: int
    oldest_trace: dt.datetime | None
    newest_trace: dt.datetime | None


@attrs.frozen(kw_only=True)
class ActionSummary:
    total_spans: int
    spans_with_tool_calls: int
    spans_with_web_access: int
    spans_with_commands: int
    action_counts: dict[str, int]
    top_actions: list[tuple[str, str, int]]  # (name, action_type, count), most frequent first


def summarize_actions(total_spans: int, action_lists: Sequence[Sequence[tuple[str, str]]]) -> ActionSummary:
    """``action_lists``: per span with actions, its (action_type, name) pairs."""
    counts: dict[str, int] = {}
    by_name: dict[tuple[str, str], int] = {}
    with_tools = with_web = with_commands = 0
    for actions in action_lists:
        kinds = {kind for kind, _ in actions}
        with_tools += "tool_call" in kinds
        with_web += "web_access" in kinds
        with_commands += "command_execution" in kinds
        for kind, name in actions:
            counts[kind] = counts.get(kind, 0) + 1
            by_name[(name, kind)] = by_name.get((name, kind), 0) + 1
    top = sorted(by_name.items(), key=lambda item: (-item[1], item[0]))[:20]
    return ActionSummary(
        total_spans=total_spans,
        spans_with_tool_calls=with_tools,
        spans_with_web_access=with_web,
        spans_with_commands=with_commands,
        action_counts=counts,
        top_actions=[(name, kind, count) for (name, kind), count in top],
    )


@attrs.frozen(kw_only=True)
class AuditQuery:
    tenant_id: str
    event_type: str | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    limit: int = DEFAULT_PAGE_SIZE
    offset: int = 0
