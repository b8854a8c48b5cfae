"""Alerts of the caller's tenant: list, get, acknowledge."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from adapters.codec import alert_to_json
from adapters.http.routes.common import caller, page_json, page_params, services
from domain.errors import NotFound
from ports.inbound import AlertDeskPort

routes = Blueprint("alerts", __name__)


def desk() -> AlertDeskPort:
    alert_desk = services().alert_desk
    if alert_desk is None:
        raise NotFound("alerting is not enabled")
    return alert_desk


@routes.get("/api/v1/alerts")
async def list_alerts() -> Response:
    limit, offset = page_params()
    return page_json(await desk().list_alerts(caller(), limit, offset), alert_to_json)


@routes.get("/api/v1/alerts/<alert_id>")
async def get_alert(alert_id: str) -> Response:
    return jsonify(alert_to_json(await desk().get(caller(), alert_id)))


@routes.post("/api/v1/alerts/<alert_id>/ack")
async def ack_alert(alert_id: str) -> Response:
    return jsonify(alert_to_json(await desk().acknowledge(caller(), alert_id)))
