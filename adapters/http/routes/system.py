"""/health (never behind auth), /metrics and the OpenAPI document."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from adapters.http.openapi import openapi_document
from adapters.http.routes.common import services

routes = Blueprint("system", __name__)


@routes.get("/health")
async def health() -> Response:
    status, body = await services().health.report()
    response = jsonify(body)
    response.status_code = status
    return response


@routes.get("/metrics")
async def metrics() -> Response:
    return Response(services().render_metrics(), content_type=services().metrics_content_type)


@routes.get("/api-doc/openapi.json")
async def openapi() -> Response:
    return jsonify(openapi_document())
