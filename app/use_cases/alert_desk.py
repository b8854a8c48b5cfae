"""Alerts as operators see them: list, read, acknowledge (scoped to the caller's tenant)."""

from __future__ import annotations

import datetime as dt

import attrs

from domain.alerting import Alert, AlertStatus
from domain.errors import Invalid, NotFound
from domain.queries import Page
from domain.tenancy import Caller
from ports.alerting import AlertRepository


class AlertDesk:
    def __init__(self, alerts: AlertRepository) -> None:
        self._alerts = alerts

    async def list_alerts(self, caller: Caller, limit: int, offset: int) -> Page[Alert]:
        return await self._alerts.list_alerts(caller.tenant_id, limit, offset)

    async def get(self, caller: Caller, alert_id: str) -> Alert:
        alert = await self._alerts.get(caller.tenant_id, alert_id)
        if alert is None:
            raise NotFound(f"alert {alert_id} not found")
        return alert

    async def acknowledge(self, caller: Caller, alert_id: str) -> Alert:
        alert = await self.get(caller, alert_id)
        if alert.status is AlertStatus.ACKNOWLEDGED:
            raise Invalid(f"alert {alert_id} is already acknowledged")
        acknowledged = attrs.evolve(
            alert,
            status=AlertStatus.ACKNOWLEDGED,
            acknowledged_at=dt.datetime.now(dt.UTC),
            acknowledged_by=caller.actor,
        )
        await self._alerts.save(acknowledged)
        return acknowledged
