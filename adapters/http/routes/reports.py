"""Compliance reports of the caller's tenant: request one (202), list them, read one as JSON or printable HTML."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request

from adapters.codec import to_json
from adapters.http.report_page import render_report
from adapters.http.routes.common import caller, json_body, page_json, page_params, services
from domain.errors import NotFound
from ports.inbound import ReportDeskPort

routes = Blueprint("reports", __name__)


def desk() -> ReportDeskPort:
    reports = services().reports
    if reports is None:
        raise NotFound("compliance reports are not available")
    return reports


@routes.post("/api/v1/reports/generate")
async def generate() -> Response:
    report = await desk().request(caller(), await json_body())
    response = jsonify({"id": report.id, "status": report.status.value})
    response.status_code = 202
    return response


@routes.get("/api/v1/reports")
async def list_reports() -> Response:
    limit, offset = page_params()
    return page_json(await desk().list_reports(caller(), limit, offset), to_json)


@routes.get("/api/v1/reports/<report_id>")
async def get_report(report_id: str) -> Response:
    report = await desk().get(caller(), report_id)
    if request.args.get("format") == "html":
        return Response(render_report(report), content_type="text/html; charset=utf-8")
    return jsonify(to_json(report))
