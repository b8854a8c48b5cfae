"""What every route module shares: the services bundle, the caller, parameter parsing and the JSON envelopes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
from quart import Response, current_app, g, jsonify, request

from domain.errors import NotFound
from domain.json_text import loads
from domain.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from domain.tenancy import Caller
from ports.health import HealthReporter
from ports.inbound import (
    ActionReporter,
    Administration,
    AlertDeskPort,
    Authenticator,
    CostReporter,
    ReportDeskPort,
    SpanIngestPort,
)
from ports.repositories import TraceRepository

MAX_OFFSET = 2**53  # fits every store's 64-bit integers and a JSON number, with room to add a page size


class BadRequest(Exception):
    pass


@attrs.frozen(kw_only=True)
class ApiServices:
    """Everything the routes call; the composition root fills it in (optional services answer 404 when absent)."""

    traces: TraceRepository
    health: HealthReporter
    access: Authenticator
    render_metrics: Callable[[], bytes]
    metrics_content_type: str
    max_request_size_bytes: int
    actions: ActionReporter | None = None
    admin: Administration | None = None
    live_config: Callable[[], dict[str, Any]] | None = None
    alert_desk: AlertDeskPort | None = None
    span_ingest: SpanIngestPort | None = None
    otel_ingest_enabled: bool = False
    costs: CostReporter | None = None
    reports: ReportDeskPort | None = None


def services() -> ApiServices:
    return current_app.extensions["llmtrace"]  # type: ignore[no-any-return]


def caller() -> Caller:
    return g.caller  # type: ignore[no-any-return]


def tenant() -> str:
    return caller().tenant_id


def administration() -> Administration:
    admin = services().admin
    if admin is None:
        raise NotFound("tenant administration is not available")
    return admin


def page_json(page: Page[Any], render: Callable[[Any], dict[str, Any]]) -> Response:
    """The list envelope of every paginated route: ``{data, total, limit, offset}``."""
    return jsonify(
        {"data": [render(item) for item in page.items], "total": page.total, "limit": page.limit, "offset": page.offset}
    )


def api_error(status: int, message: str, kind: str = "api_error") -> Response:
    response = jsonify({"error": {"message": message, "type": kind}})
    response.status_code = status
    return response


def created(data: dict[str, Any]) -> Response:
    response = jsonify(data)
    response.status_code = 201
    return response


def int_param(name: str, default: int | None, minimum: int, maximum: int | None = None) -> int | None:
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


def time_param(name: str) -> dt.datetime | None:
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


def page_params() -> tuple[int, int]:
    limit = int_param("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    offset = int_param("offset", 0, 0, MAX_OFFSET)
    assert limit is not None and offset is not None
    return limit, offset


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
