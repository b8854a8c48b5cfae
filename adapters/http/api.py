"""REST API, /health and /metrics on quart-trio; and the ASGI entry point that sends everything else to the proxy.

Routes translate HTTP to domain queries and back; they hold no business rules.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from quart import Response, g, jsonify, request
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from adapters import otlp
from adapters.codec import (
    alert_to_json,
    audit_to_json,
    key_to_json,
    span_to_json,
    stats_to_json,
    tenant_to_json,
    to_json,
    trace_to_json,
)
from adapters.http.forwarder import Forwarder, Receive, Scope, Send
from adapters.http.openapi import ROUTE_ROLES, openapi_document
from domain.errors import AuthError, Forbidden, Invalid, NotFound
from domain.findings import Severity
from domain.json_text import loads
from domain.providers import provider_from_name
from domain.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, AuditQuery, Page, TraceQuery
from domain.tenancy import Caller, settings_to_json
from domain.traces import ActionType, AgentAction, truncate_utf8
from ports.health import HealthReporter
from ports.inbound import ActionReporter, Administration, AlertDeskPort, Authenticator, CostReporter, SpanIngestPort
from ports.repositories import StorageUnavailable, TraceRepository


class BadRequest(Exception):
    pass


def page_json(page: Page[Any], render: Callable[[Any], dict[str, Any]]) -> Response:
    """The list envelope of every paginated route: ``{data, total, limit, offset}``."""
    return jsonify(
        {"data": [render(item) for item in page.items], "total": page.total, "limit": page.limit, "offset": page.offset}
    )


def api_error(status: int, message: str, kind: str = "api_error") -> Response:
    response = jsonify({"error": {"message": message, "type": kind}})
    response.status_code = status
    return response


MAX_OFFSET = 2**53  # fits every store's 64-bit integers and a JSON number, with room to add a page size


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
    try:
        return value.astimezone(dt.UTC)  # also what every store compares against
    except OverflowError:
        raise BadRequest(f"{name} is outside the representable range (years 1-9999 in UTC), got {raw!r}") from None


def _page_params() -> tuple[int, int]:
    limit = _int_param("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    offset = _int_param("offset", 0, 0, MAX_OFFSET)
    assert limit is not None and offset is not None
    return limit, offset


def create_api(
    *,
    traces: TraceRepository,
    health: HealthReporter,
    access: Authenticator,
    render_metrics: Callable[[], bytes],
    metrics_content_type: str,
    max_request_size_bytes: int,
    actions: ActionReporter | None = None,
    admin: Administration | None = None,
    live_config: Callable[[], dict[str, Any]] | None = None,
    alert_desk: AlertDeskPort | None = None,
    span_ingest: SpanIngestPort | None = None,
    otel_ingest_enabled: bool = False,
    costs: CostReporter | None = None,
) -> QuartTrio:
    app = QuartTrio("llmtrace")
    app.config["MAX_CONTENT_LENGTH"] = max_request_size_bytes
    app.config["RESPONSE_TIMEOUT"] = None
    app.config["BODY_TIMEOUT"] = 60
    app.json.sort_keys = False  # type: ignore[attr-defined]

    def caller() -> Caller:
        return g.caller  # type: ignore[no-any-return]

    def tenant() -> str:
        return caller().tenant_id

    def administration() -> Administration:
        if admin is None:
            raise NotFound("tenant administration is not available")
        return admin

    @app.before_request
    async def authenticate() -> Response | None:
        if request.path == "/health":
            return None
        headers = {k.lower().encode("latin-1"): v.encode("latin-1") for k, v in request.headers.items()}
        g.caller = await access.for_api(headers)
        rule = request.url_rule.rule if request.url_rule is not None else None
        needed = ROUTE_ROLES.get((request.method, rule)) if rule else None
        if needed is None:
            return None  # unknown route: Quart answers 404 (only after authentication)
        role, superuser_only = needed
        if caller().role < role:
            raise Forbidden(f"this route requires the {role.value} role (caller has {caller().role.value})")
        if superuser_only and not caller().superuser:
            raise Forbidden("this route requires the bootstrap admin key")
        return None

    @app.errorhandler(AuthError)
    async def _unauthorized(exc: AuthError) -> Response:
        response = api_error(401, str(exc), "auth_error")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.errorhandler(Forbidden)
    async def _forbidden(exc: Forbidden) -> Response:
        return api_error(403, str(exc), "auth_error")

    @app.errorhandler(NotFound)
    async def _not_found(exc: NotFound) -> Response:
        return api_error(404, str(exc))

    @app.errorhandler(Invalid)
    async def _invalid(exc: Invalid) -> Response:
        return api_error(400, str(exc))

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
        return page_json(page, trace_to_json)

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
        return page_json(page, span_json)

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
        return page_json(page, span_json)

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
        action = action_from_request(await optional_json_body())
        if not await actions.report(tenant(), trace_id, action):
            return api_error(404, f"trace {trace_id} not found")
        return jsonify({"status": "ok", "action_id": action.id, "trace_id": trace_id})

    @app.get("/api/v1/stats")
    async def stats() -> Response:
        return jsonify(stats_to_json(await traces.stats(tenant())))

    @app.get("/api/v1/costs/current")
    async def current_costs() -> Response:
        agent = request.args.get("agent_id") or None
        snapshot = await costs.current_costs(tenant(), agent) if costs is not None else None
        if snapshot is None:
            return api_error(404, "Cost caps are not enabled")
        return jsonify(to_json(snapshot))

    @app.get("/api/v1/stats/global")
    async def global_stats() -> Response:
        return jsonify(stats_to_json(await traces.stats(None)))

    async def optional_json_body() -> Any:
        try:
            return loads(await request.get_data())
        except ValueError:
            return None

    async def json_body() -> dict[str, Any]:
        body = await optional_json_body()
        if not isinstance(body, dict):
            raise BadRequest("body must be a JSON object")
        return body

    @app.get("/api/v1/config/live")
    async def config_live() -> Response:
        return jsonify({"config": live_config() if live_config else {}})

    @app.post("/api/v1/tenants")
    async def create_tenant() -> Response:
        body = await json_body()
        config = body.get("config") or {}
        if not isinstance(config, dict):
            raise BadRequest("config must be an object")
        created = await administration().create_tenant(
            caller(), str(body.get("name") or ""), str(body.get("plan") or "default"), config
        )
        data = tenant_to_json(created.tenant)
        data["api_token"] = created.api_token
        data["api_key"] = created.api_key_secret
        data["api_key_id"] = created.api_key.id
        response = jsonify(data)
        response.status_code = 201
        return response

    @app.get("/api/v1/tenants")
    async def list_tenants() -> Response:
        return jsonify([tenant_to_json(t) for t in await administration().list_tenants(caller())])

    @app.get("/api/v1/tenants/<tenant_id>")
    async def get_tenant(tenant_id: str) -> Response:
        return jsonify(tenant_to_json(await administration().get_tenant(caller(), tenant_id)))

    @app.put("/api/v1/tenants/<tenant_id>")
    async def update_tenant(tenant_id: str) -> Response:
        return jsonify(tenant_to_json(await administration().update_tenant(caller(), tenant_id, await json_body())))

    @app.delete("/api/v1/tenants/<tenant_id>")
    async def delete_tenant(tenant_id: str) -> Response:
        await administration().delete_tenant(caller(), tenant_id)
        return Response("", status=204)

    @app.post("/api/v1/tenants/<tenant_id>/token/reset")
    async def reset_token(tenant_id: str) -> Response:
        return jsonify({"api_token": await administration().reset_token(caller(), tenant_id)})

    @app.get("/api/v1/tenants/<tenant_id>/settings")
    async def get_settings(tenant_id: str) -> Response:
        return jsonify(settings_to_json(await administration().get_settings(caller(), tenant_id)))

    @app.put("/api/v1/tenants/<tenant_id>/settings")
    async def put_settings(tenant_id: str) -> Response:
        return jsonify(settings_to_json(await administration().put_settings(caller(), tenant_id, await json_body())))

    @app.post("/api/v1/auth/keys")
    async def create_key() -> Response:
        body = await json_body()
        tenant_id = body.get("tenant_id")
        if tenant_id is not None and not isinstance(tenant_id, str):
            raise BadRequest("tenant_id must be a string")
        created = await administration().create_key(
            caller(), tenant_id, body.get("name") or "", str(body.get("role") or "")
        )
        data = key_to_json(created.key)
        data["key"] = created.secret
        response = jsonify(data)
        response.status_code = 201
        return response

    @app.get("/api/v1/auth/keys")
    async def list_keys() -> Response:
        return jsonify([key_to_json(k) for k in await administration().list_keys(caller())])

    @app.delete("/api/v1/auth/keys/<key_id>")
    async def revoke_key(key_id: str) -> Response:
        await administration().revoke_key(caller(), key_id)
        return Response("", status=204)

    @app.get("/api/v1/audit")
    async def audit() -> Response:
        limit, offset = _page_params()
        page = await administration().audit_events(
            caller(),
            AuditQuery(
                tenant_id=tenant(),
                event_type=request.args.get("event_type") or None,
                start_time=_time_param("start_time"),
                end_time=_time_param("end_time"),
                limit=limit,
                offset=offset,
            ),
        )
        return page_json(page, audit_to_json)

    def desk() -> AlertDeskPort:
        if alert_desk is None:
            raise NotFound("alerting is not enabled")
        return alert_desk

    @app.get("/api/v1/alerts")
    async def list_alerts() -> Response:
        limit, offset = _page_params()
        page = await desk().list_alerts(caller(), limit, offset)
        return page_json(page, alert_to_json)

    @app.get("/api/v1/alerts/<alert_id>")
    async def get_alert(alert_id: str) -> Response:
        return jsonify(alert_to_json(await desk().get(caller(), alert_id)))

    @app.post("/api/v1/alerts/<alert_id>/ack")
    async def ack_alert(alert_id: str) -> Response:
        return jsonify(alert_to_json(await desk().acknowledge(caller(), alert_id)))

    @app.get("/api-doc/openapi.json")
    async def openapi() -> Response:
        return jsonify(openapi_document())

    @app.route("/v1/traces", methods=["POST"])
    async def otlp_ingest() -> Response:
        if not otel_ingest_enabled or span_ingest is None:
            return api_error(404, "OTEL ingestion is not enabled")
        content_type = request.headers.get("content-type", "")
        try:
            raw = await request.get_data()
            data = raw if isinstance(raw, bytes) else raw.encode()
            body = otlp.decompress(data, request.headers.get("content-encoding"))
            parsed = otlp.parse_request(body, content_type)
        except otlp.OtlpDecodeError as exc:
            return api_error(400, str(exc))
        spans, rejected, reasons = otlp.to_spans(parsed, tenant())
        accepted = await span_ingest.submit([(s.span, s.analysis_text) for s in spans])
        if accepted < len(spans):
            rejected += len(spans) - accepted
            reasons.append("the analysis queue is full")
        payload, media_type = otlp.response_body(rejected, reasons, content_type)
        return Response(payload, status=200, content_type=media_type)

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
