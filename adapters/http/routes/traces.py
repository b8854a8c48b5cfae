"""Traces, spans, security findings, agent actions, storage stats and current spend: the tenant's own data only."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from quart import Blueprint, Response, jsonify, request

from adapters.codec import iso, span_to_json, stats_to_json, to_json, trace_to_json
from adapters.http.routes.common import (
    BadRequest,
    api_error,
    int_param,
    optional_json_body,
    page_json,
    page_params,
    services,
    tenant,
    time_param,
)
from domain.findings import Severity
from domain.providers import provider_from_name
from domain.queries import TraceQuery
from domain.traces import ActionType, AgentAction, TraceSpan, truncate_utf8
from domain.usage import MAX_USAGE_ROWS, SEVERITY_KEYS, UsageQuery, parse_usage_query, sort_rows

routes = Blueprint("traces", __name__)


def trace_query(**extra: Any) -> TraceQuery:
    limit, offset = page_params()
    provider = request.args.get("provider")
    return TraceQuery(
        tenant_id=tenant(),
        start_time=time_param("start_time"),
        end_time=time_param("end_time"),
        provider=provider_from_name(provider) if provider else None,
        model_name=request.args.get("model") or None,
        agent_id=request.args.get("agent_id") or None,
        end_user_id=request.args.get("user") or None,
        limit=limit,
        offset=offset,
        **extra,
    )


def span_json(span: TraceSpan) -> dict[str, Any]:
    data = span_to_json(span)
    data["monitoring_scope"] = "hybrid"
    return data


@routes.get("/api/v1/traces")
async def list_traces() -> Response:
    return page_json(await services().traces.query_traces(trace_query()), trace_to_json)


@routes.get("/api/v1/traces/<trace_id>")
async def get_trace(trace_id: str) -> Response:
    trace = await services().traces.get_trace(tenant(), trace_id)
    if trace is None:
        return api_error(404, f"trace {trace_id} not found")
    return jsonify(trace_to_json(trace))


@routes.get("/api/v1/spans")
async def list_spans() -> Response:
    score_min = int_param("security_score_min", None, 0, 100)
    score_max = int_param("security_score_max", None, 0, 100)
    if score_min is not None and score_max is not None and score_min > score_max:
        raise BadRequest("security_score_min must not exceed security_score_max")
    query = trace_query(
        operation_name=request.args.get("operation_name") or None,
        min_security_score=score_min,
        max_security_score=score_max,
        finding_type=request.args.get("finding_type") or None,
    )
    return page_json(await services().traces.query_spans(query), span_json)


@routes.get("/api/v1/spans/<span_id>")
async def get_span(span_id: str) -> Response:
    span = await services().traces.get_span(tenant(), span_id)
    if span is None:
        return api_error(404, f"span {span_id} not found")
    return jsonify(span_json(span))


@routes.get("/api/v1/security/findings")
async def findings() -> Response:
    severity = request.args.get("severity")
    if severity:
        try:
            severity = Severity.parse(severity).value
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    query = trace_query(
        has_findings=True,
        finding_type=request.args.get("finding_type") or None,
        finding_severity=severity or None,
    )
    return page_json(await services().traces.query_spans(query), span_json)


@routes.get("/api/v1/security/summary")
async def findings_summary() -> Response:
    counts = await services().traces.finding_counts(tenant(), time_param("start_time"), time_param("end_time"))
    return jsonify(
        {"data": [{"finding_type": c.finding_type, "severity": c.severity, "count": c.count} for c in counts]}
    )


@routes.get("/api/v1/actions/summary")
async def actions_summary() -> Response:
    summary = await services().traces.action_summary(
        TraceQuery(
            tenant_id=tenant(),
            model_name=request.args.get("model") or None,
            operation_name=request.args.get("operation_name") or None,
        )
    )
    return jsonify(
        {
            "total_spans": summary.total_spans,
            "spans_with_tool_calls": summary.spans_with_tool_calls,
            "spans_with_web_access": summary.spans_with_web_access,
            "spans_with_commands": summary.spans_with_commands,
            "action_counts": summary.action_counts,
            "top_actions": [
                {"name": name, "action_type": kind, "count": count} for name, kind, count in summary.top_actions
            ],
        }
    )


@routes.post("/api/v1/traces/<trace_id>/actions")
async def report_action(trace_id: str) -> Response:
    actions = services().actions
    if actions is None:
        return api_error(404, "action reporting is not available")
    action = action_from_request(await optional_json_body())
    if not await actions.report(tenant(), trace_id, action):
        return api_error(404, f"trace {trace_id} not found")
    return jsonify({"status": "ok", "action_id": action.id, "trace_id": trace_id})


async def stats_json(tenant_id: str | None) -> dict[str, Any]:
    """Storage statistics plus the totals of usage: tokens, cost, findings by severity, requests and errors."""
    store = services().traces
    data = stats_to_json(await store.stats(tenant_id))
    rows = await store.usage(UsageQuery(tenant_id=tenant_id, percentiles=False))
    totals = rows[0] if rows else None
    data.update(
        {
            "total_requests": totals.requests if totals else 0,
            "total_errors": totals.errors if totals else 0,
            "total_prompt_tokens": totals.prompt_tokens if totals else 0,
            "total_completion_tokens": totals.completion_tokens if totals else 0,
            "total_tokens": totals.total_tokens if totals else 0,
            "total_cost_usd": round(totals.cost_usd, 8) if totals else 0.0,
            "findings_by_severity": dict(totals.findings) if totals else dict.fromkeys(SEVERITY_KEYS, 0),
        }
    )
    return data


@routes.get("/api/v1/stats")
async def stats() -> Response:
    return jsonify(await stats_json(tenant()))


@routes.get("/api/v1/stats/global")
async def global_stats() -> Response:
    return jsonify(await stats_json(None))


@routes.get("/api/v1/usage")
async def usage() -> Response:
    group_by = ",".join(request.args.getlist("group_by"))
    try:
        query = parse_usage_query(
            tenant(),
            group_by,
            request.args.get("bucket") or None,
            time_param("start_time"),
            time_param("end_time"),
            request.args.get("percentiles"),
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    rows = sort_rows(await services().traces.usage(query), query)
    return jsonify(
        {
            "group_by": [d.value for d in query.group_by],
            "bucket": query.bucket.value if query.bucket else None,
            "start_time": iso(query.start_time),
            "end_time": iso(query.end_time),
            "truncated": len(rows) >= MAX_USAGE_ROWS,
            "data": to_json(rows),
        }
    )


@routes.get("/api/v1/costs/current")
async def current_costs() -> Response:
    costs = services().costs
    agent = request.args.get("agent_id") or None
    snapshot = await costs.current_costs(tenant(), agent) if costs is not None else None
    if snapshot is None:
        return api_error(404, "Cost caps are not enabled")
    return jsonify(to_json(snapshot))


def action_from_request(body: Any) -> AgentAction:
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    try:
        action_type = ActionType(str(body.get("action_type", "")))
    except ValueError:
        kinds = ", ".join(t.value for t in ActionType)
        raise BadRequest(f"action_type must be one of {kinds}") from None
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("name must be a non-empty string")

    def text(key: str) -> str | None:
        value = body.get(key)
        if value is None:
            return None
        return truncate_utf8(value if isinstance(value, str) else json.dumps(value))

    def integer(key: str) -> int | None:
        value = body.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(f"{key} must be an integer")
        return value

    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRequest("metadata must be an object")
    return AgentAction(
        id=str(uuid.uuid4()),
        action_type=action_type,
        name=name,
        timestamp=dt.datetime.now(dt.UTC),
        arguments=text("arguments"),
        result=text("result"),
        duration_ms=integer("duration_ms"),
        success=bool(body.get("success", True)),
        exit_code=integer("exit_code"),
        http_method=body.get("http_method") if isinstance(body.get("http_method"), str) else None,
        http_status=integer("http_status"),
        file_operation=body.get("file_operation") if isinstance(body.get("file_operation"), str) else None,
        metadata={str(k): str(v) for k, v in metadata.items()},
    )
