"""The REST API's roles and its OpenAPI 3.0 document, kept in one table so they cannot drift apart.

``tests/integration/test_auth.py`` checks that every route the app serves is in this table and vice versa.
"""

from __future__ import annotations

from typing import Any

from domain.tenancy import Role

V, OP, A = Role.VIEWER, Role.OPERATOR, Role.ADMIN

PAGE = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
]
TIME = [
    {"name": "start_time", "in": "query", "schema": {"type": "string", "format": "date-time"}},
    {"name": "end_time", "in": "query", "schema": {"type": "string", "format": "date-time"}},
]


def _q(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "schema": {"type": "string"}} for n in names]


# (method, Quart rule) -> (minimum role, bootstrap-admin only, summary, extra parameters, success status)
OPERATIONS: dict[tuple[str, str], tuple[Role, bool, str, list[dict[str, Any]], int]] = {
    ("GET", "/metrics"): (V, False, "Prometheus metrics (text format)", [], 200),
    ("GET", "/api-doc/openapi.json"): (V, False, "This document", [], 200),
    ("GET", "/api/v1/traces"): (
        V, False, "List traces, newest first", [*TIME, *_q("provider", "model", "agent_id", "user"), *PAGE], 200,
    ),
    ("GET", "/api/v1/traces/<trace_id>"): (V, False, "One trace with its spans", [], 200),
    ("POST", "/api/v1/traces/<trace_id>/actions"): (OP, False, "Report an agent action on a trace", [], 200),
    ("GET", "/api/v1/spans"): (
        V, False, "List spans, newest first",
        [*TIME, *_q("provider", "model", "agent_id", "user", "operation_name", "finding_type", "security_score_min",
                    "security_score_max"), *PAGE], 200,
    ),
    ("GET", "/api/v1/spans/<span_id>"): (V, False, "One span", [], 200),
    ("GET", "/api/v1/stats"): (V, False, "Storage, token, cost and finding totals of the caller's tenant", [], 200),
    ("GET", "/api/v1/usage"): (
        V, False, "Usage and spend grouped by model, provider, agent, api_key, user, operation and time bucket",
        [*TIME, *_q("group_by", "bucket", "percentiles")], 200,
    ),
    ("GET", "/api/v1/stats/global"): (A, True, "Storage statistics across all tenants", [], 200),
    ("GET", "/api/v1/costs/current"): (
        V, False, "Spend and limits per budget window (cost caps)", _q("agent_id"), 200,
    ),
    ("GET", "/api/v1/security/findings"): (
        V, False, "Spans with security findings", [*TIME, *_q("severity", "finding_type", "model"), *PAGE], 200,
    ),
    ("GET", "/api/v1/security/summary"): (
        V, False, "Findings counted by type and severity (period optional)", TIME, 200,
    ),
    ("GET", "/api/v1/auth/whoami"): (V, False, "The caller: tenant, role, whether auth is on", [], 200),
    ("GET", "/api/v1/actions/summary"): (V, False, "Agent actions by type and name", _q("model", "operation_name"),
                                         200),
    ("GET", "/api/v1/config/live"): (OP, False, "The running configuration, secrets redacted", [], 200),
    ("POST", "/api/v1/tenants"): (A, True, "Create a tenant (returns its token and an admin key once)", [], 201),
    ("GET", "/api/v1/tenants"): (A, False, "List tenants visible to the caller", [], 200),
    ("GET", "/api/v1/tenants/<tenant_id>"): (A, False, "One tenant", [], 200),
    ("PUT", "/api/v1/tenants/<tenant_id>"): (A, False, "Update name, plan or config", [], 200),
    ("DELETE", "/api/v1/tenants/<tenant_id>"): (A, False, "Delete a tenant, its settings and keys", [], 204),
    ("POST", "/api/v1/tenants/<tenant_id>/token/reset"): (A, False, "New tenant token (returned once)", [], 200),
    ("GET", "/api/v1/tenants/<tenant_id>/settings"): (OP, False, "Per-tenant settings the proxy applies", [], 200),
    ("PUT", "/api/v1/tenants/<tenant_id>/settings"): (
        A, False, "Set monitoring scope, thresholds, rate limit, budget", [], 200,
    ),
    ("POST", "/api/v1/auth/keys"): (A, False, "Create an API key (returned once)", [], 201),
    ("GET", "/api/v1/auth/keys"): (A, False, "API keys of the caller's tenant (hashes never shown)", [], 200),
    ("DELETE", "/api/v1/auth/keys/<key_id>"): (A, False, "Revoke an API key", [], 204),
    ("GET", "/api/v1/audit"): (A, False, "Audit events of the caller's tenant", [*TIME, *_q("event_type"), *PAGE],
                               200),
    ("GET", "/api/v1/alerts"): (V, False, "Alerts of the caller's tenant, newest first", PAGE, 200),
    ("GET", "/api/v1/alerts/<alert_id>"): (V, False, "One alert", [], 200),
    ("POST", "/api/v1/alerts/<alert_id>/ack"): (OP, False, "Acknowledge an alert (stops its escalation)", [], 200),
    ("POST", "/api/v1/reports/generate"): (
        OP, False, "Request a compliance report (soc2, gdpr, hipaa, owasp_llm_top10) for a period", [], 202,
    ),
    ("GET", "/api/v1/reports"): (V, False, "Compliance reports of the caller's tenant, newest first", PAGE, 200),
    ("GET", "/api/v1/reports/<report_id>"): (
        V, False, "One compliance report (format=html: a printable page with charts)", _q("format"), 200,
    ),
    ("POST", "/v1/traces"): (V, False, "OTLP/HTTP trace ingest", [], 200),
}  # fmt: skip

ROUTE_ROLES: dict[tuple[str, str], tuple[Role, bool]] = {
    key: (role, superuser) for key, (role, superuser, *_rest) in OPERATIONS.items()
}

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"message": {"type": "string"}, "type": {"type": "string"}},
            "required": ["message", "type"],
        }
    },
}


def _path(rule: str) -> str:
    return rule.replace("<", "{").replace(">", "}")


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {
        "/health": {
            "get": {
                "summary": "Health and readiness (no authentication)",
                "security": [],
                "responses": {"200": {"description": "healthy or degraded"}, "503": {"description": "starting"}},
            }
        }
    }
    for (method, rule), (role, superuser, summary, params, status) in OPERATIONS.items():
        path_params = [
            {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
            for part in rule.split("/")
            if part.startswith("<")
        ]
        who = "the bootstrap admin key" if superuser else f"role {role.value} or higher"
        paths.setdefault(_path(rule), {})[method.lower()] = {
            "summary": summary,
            "description": f"Requires {who} when auth is enabled.",
            "parameters": path_params + params,
            "responses": {
                str(status): {"description": "success"},
                "400": {"description": "invalid parameters", "content": {"application/json": {"schema": ERROR}}},
                "401": {"description": "missing or invalid credentials"},
                "403": {"description": "insufficient role"},
                "404": {"description": "not found (also for other tenants' resources)"},
            },
        }
    return {
        "openapi": "3.0.3",
        "info": {"title": "LLMTrace Proxy", "version": "1"},
        "components": {
            "securitySchemes": {"api_key": {"type": "http", "scheme": "bearer", "description": "LLMTrace API key"}}
        },
        "security": [{"api_key": []}],
        "paths": paths,
    }
