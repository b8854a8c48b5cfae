"""The REST API, /health and /metrics on quart-trio; and the ASGI entry point that sends everything else to the proxy.

The routes live in ``adapters.http.routes`` (one module per area); this module puts them together behind
authentication, roles and one JSON error shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quart import Response, g, request
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from adapters.http.forwarder import Forwarder, Receive, Scope, Send
from adapters.http.openapi import ROUTE_ROLES
from adapters.http.routes import admin, alerts, dashboard, ingest, reports, system, traces
from adapters.http.routes.common import ApiServices, BadRequest, api_error, caller
from adapters.http.routes.dashboard import SESSION_COOKIE
from domain.errors import AuthError, Busy, Forbidden, Invalid, NotFound
from ports.repositories import StorageUnavailable


def create_api(**services: Any) -> QuartTrio:
    """The REST API over the given services (the fields of ``ApiServices``): authentication and roles first, the
    route modules' blueprints, and one JSON error shape for every failure."""
    app = QuartTrio("llmtrace")
    app.extensions["llmtrace"] = ApiServices(**services)
    app.config["MAX_CONTENT_LENGTH"] = services["max_request_size_bytes"]
    app.config["RESPONSE_TIMEOUT"] = None
    app.config["BODY_TIMEOUT"] = 60
    app.json.sort_keys = False  # type: ignore[attr-defined]

    @app.before_request
    async def authenticate() -> Response | None:
        if request.path == "/health" or _ui_page(request.path):
            return None  # the dashboard and Swagger UI pages check credentials themselves (a login page, not a 401)
        headers = {k.lower().encode("latin-1"): v.encode("latin-1") for k, v in request.headers.items()}
        session = request.cookies.get(SESSION_COOKIE)
        if session and b"authorization" not in headers and b"x-llmtrace-token" not in headers:
            # the dashboard's HttpOnly, SameSite=Strict session cookie stands for the key it was made from
            headers[b"authorization"] = f"Bearer {session}".encode("latin-1", "replace")
        g.caller = await app.extensions["llmtrace"].access.for_api(headers)
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

    @app.errorhandler(Busy)
    async def _busy(exc: Busy) -> Response:
        response = api_error(503, str(exc), "busy")
        response.headers["Retry-After"] = "10"
        return response

    for module in (system, traces, admin, alerts, reports, ingest, dashboard):
        app.register_blueprint(module.routes)
    return app


API_PATHS = ("/health", "/metrics", "/v1/traces", "/dashboard", "/api-doc")
API_PREFIXES = ("/api/v1/", "/api-doc/", "/swagger-ui", "/dashboard/")


def _ui_page(path: str) -> bool:
    return path.startswith("/dashboard") or (path.startswith("/api-doc") and path != "/api-doc/openapi.json")


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
