"""REST API, /health and /metrics on quart-trio; and the ASGI entry point that sends everything else to the proxy.

Routes translate HTTP to domain queries and back; they hold no business rules.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from quart import Response, jsonify, request
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from adapters.codec import span_to_json, stats_to_json, trace_to_json
from adapters.http.forwarder import Forwarder, Receive, Scope, Send
from domain.findings import Severity
from domain.providers import provider_from_name
from domain.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, TraceQuery
from domain.traces import ActionType, AgentAction, truncate_utf8
from ports.health import HealthReporter
from ports.inbound import ActionReporter
from ports.repositories import StorageUnavailable, TraceRepository


class BadRequest(Exception):
    pass


def api_error(status: int, message: str, kind: str = "api_error") -> Response:
    response = jsonify({"error": {"message": message, "type": kind}})
    response.status_code = status
    return response


def _int_param(name: str, default: int | None, minimum: int, maximum: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise BadRequest(f"{name} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise BadRequest(f"{name} must be at most {maximum}")
    return value


def _time_param(name: str) -> dt.datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be an RFC 3339 timestamp, got {raw!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _page_params() -> tuple[int, int]:
    limit = _int_param("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    offset = _int_param("offset", 0, 0)
    assert limit is not None and offset is not None
    return limit, offset


def create_api(
    *,
    traces: TraceRepository,
    health: HealthReporter,
    tenant_of: Callable[[dict[bytes, bytes]], str],
    render_metrics: Callable[[], bytes],
    metrics_content_type: str,
    max_request_size_bytes: int,
    actions: ActionReporter | None = None,
    otel_ingest_enabled: bool = False,
) -> QuartTrio:
    app = QuartTrio("llmtrace")
    app.config["MAX_CONTENT_LENGTH"] = max_request_size_bytes
    app.config["RESPONSE_TIMEOUT"] = None
    app.config["BODY_TIMEOUT"] = 60
    app.json.sort_keys = False  # type: ignore[attr-defined]

    def tenant() -> str:
        headers = {k.lower().encode("latin-1"): v.encode("latin-1") for k, v in request.headers.items()}
        return tenant_of(headers)

    @app.errorhandler(BadRequest)
    async def _bad_request(exc: BadRequest) -> Response:
        return api_error(400, str(exc))

    @app.errorhandler(StorageUnavailable)
    async def _storage_down(exc: StorageUnavailable) -> Response:
        return api_error(503, f"trace storage is unavailable: {exc}", "storage_unavailable")

    @app.errorhandler(HTTPException)
    async def _http_error(exc: HTTPException) -> Response:
        return api_error(exc.code or 500, exc.description or exc.name)

    @app.get("/health")
    async def health_route() -> Response:
        status, body = await health.report()
        response = jsonify(body)
        response.status_code = status
        return response

    @app.get("/metrics")
    async def metrics_route() -> Response:
        return Response(render_metrics(), content_type=metrics_content_type)

    def trace_query(**extra: Any) -> TraceQuery:
        limit, offset = _page_params()
        provider = request.args.get("provider")
        return TraceQuery(
            tenant_id=tenant(),
            start_time=_time_param("start_time"),
            end_time=_time_param("end_time"),
            provider=provider_from_name(provider) if provider else None,
            model_name=request.args.get("model") or None,
            limit=limit,
            offset=offset,
            **extra,
        )

    @app.get("/api/v1/traces")
    async def list_traces() -> Response:
        page = await traces.query_traces(trace_query())
        return jsonify(
            {
                "data": [trace_to_json(t) for t in page.items],
                "total": page.total,
                "limit": page.limit,
                "offset": page.offset,
            }
        )

    @app.get("/api/v1/traces/<trace_id>")
    async def get_trace(trace_id: str) -> Response:
        trace = await traces.get_trace(tenant(), trace_id)
        if trace is None:
            return api_error(404, f"trace {trace_id} not found")
        return jsonify(trace_to_json(trace))

    def span_json(span: Any) -> dict[str, Any]:
        data = span_to_json(span)
        data["monitoring_scope"] = "hybrid"
        return data

    @app.get("/api/v1/spans")
    async def list_spans() -> Response:
        score_min = _int_param("security_score_min", None, 0, 100)
        score_max = _int_param("security_score_max", None, 0, 100)
        if score_min is not None and score_max is not None and score_min > score_max:
            raise BadRequest("security_score_min must not exceed security_score_max")
        query = trace_query(
            operation_name=request.args.get("operation_name") or None,
            min_security_score=score_min,
            max_security_score=score_max,
        )
        page = await traces.query_spans(query)
        return jsonify(
            {
                "data": [span_json(s) for s in page.items],
                "total": page.total,
                "limit": page.limit,
                "offset": page.offset,
            }
        )

    @app.get("/api/v1/spans/<span_id>")
    async def get_span(span_id: str) -> Response:
        span = await traces.get_span(tenant(), span_id)
        if span is None:
            return api_error(404, f"span {span_id} not found")
        return jsonify(span_json(span))

    @app.get("/api/v1/security/findings")
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
        page = await traces.query_spans(query)
        return jsonify(
            {
                "data": [span_json(s) for s in page.items],
                "total": page.total,
                "limit": page.limit,
                "offset": page.offset,
            }
        )

    @app.get("/api/v1/actions/summary")
    async def actions_summary() -> Response:
        summary = await traces.action_summary(
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

    @app.post("/api/v1/traces/<trace_id>/actions")
    async def report_action(trace_id: str) -> Response:
        if actions is None:
            return api_error(404, "action reporting is not available")
        action = action_from_request(await request.get_json(force=True, silent=True))
        if not await actions.report(tenant(), trace_id, action):
            return api_error(404, f"trace {trace_id} not found")
        return jsonify({"status": "ok", "action_id": action.id, "trace_id": trace_id})

    @app.get("/api/v1/stats")
    async def stats() -> Response:
        return jsonify(stats_to_json(await traces.stats(tenant())))

    @app.get("/api/v1/stats/global")
    async def global_stats() -> Response:
        return jsonify(stats_to_json(await traces.stats(None)))

    @app.route("/v1/traces", methods=["POST"])
    async def otlp_ingest() -> Response:
        if not otel_ingest_enabled:
            return api_error(404, "OTEL ingestion is not enabled")
        return api_error(501, "OTLP ingestion is not available in this build")

    return app


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


API_PATHS = ("/health", "/metrics", "/v1/traces")
API_PREFIXES = ("/api/v1/", "/api-doc/", "/swagger-ui")


def create_asgi(api: QuartTrio, forwarder: Forwarder) -> Callable[[Scope, Receive, Send], Any]:
    """Routes the proxy's own paths to the API, everything else (every method and path) to the upstream."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path not in API_PATHS and not path.startswith(API_PREFIXES):
                await forwarder(scope, receive, send)
                return
        await api(scope, receive, send)  # type: ignore[arg-type]

    return asgi
