"""In-memory alert store and cooldown store (single process; the fakes for application tests)."""

from __future__ import annotations

import datetime as dt

import trio

from domain.alerting import Alert, AlertStatus
from domain.queries import Page


class InMemoryAlertRepository:
    def __init__(self) -> None:
        self.alerts: dict[str, Alert] = {}

    async def save(self, alert: Alert) -> None:
        self.alerts[alert.id] = alert

    async def get(self, tenant_id: str, alert_id: str) -> Alert | None:
        alert = self.alerts.get(alert_id)
        return alert if alert is not None and alert.tenant_id == tenant_id else None

    async def list_alerts(self, tenant_id: str, limit: int, offset: int) -> Page[Alert]:
        alerts = sorted(
            (a for a in self.alerts.values() if a.tenant_id == tenant_id),
            key=lambda a: (a.created_at, a.id),
            reverse=True,
        )
        return Page(items=alerts[offset : offset + limit], total=len(alerts), limit=limit, offset=offset)

    async def due_for_escalation(self, created_before: dt.datetime) -> list[Alert]:
        due = [a for a in self.alerts.values() if a.status is AlertStatus.OPEN and a.created_at < created_before]
        return sorted(due, key=lambda a: a.created_at)


class InMemoryDedupStore:
    """Cooldowns on trio's clock, so tests with a mock clock need no real sleeping."""

    def __init__(self) -> None:
        self.claims: dict[str, float] = {}
        self.suppressed: dict[str, int] = {}

    async def claim(self, key: str, ttl_s: float) -> bool:
        now = trio.current_time()
        if self.claims.get(key, float("-inf")) > now:
            return False
        self.claims[key] = now + ttl_s
        return True

    async def count_suppressed(self, key: str) -> None:
        self.suppressed[key] = self.suppressed.get(key, 0) + 1

    async def take_suppressed(self, key: str) -> int:
        return self.suppressed.pop(key, 0)
