"""Ports of the alert pipeline: cooldown bookkeeping, alert storage, delivery."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from domain.alerting import Alert, AlertChannel
from domain.queries import Page


class DedupStore(Protocol):
    """Cooldowns shared by every replica that uses the same store."""

    async def claim(self, key: str, ttl_s: float) -> bool:
        """True when no claim on ``key`` is live (and take it for ``ttl_s``); False inside the cooldown."""

    async def count_suppressed(self, key: str) -> None:
        """Remember one more finding suppressed under ``key``."""

    async def take_suppressed(self, key: str) -> int:
        """How many were suppressed under ``key`` since the last take (and reset it)."""


class AlertRepository(Protocol):
    async def save(self, alert: Alert) -> None:
        """Insert or replace."""

    async def get(self, tenant_id: str, alert_id: str) -> Alert | None: ...

    async def list_alerts(self, tenant_id: str, limit: int, offset: int) -> Page[Alert]:
        """Newest first."""

    async def due_for_escalation(self, created_before: dt.datetime) -> list[Alert]:
        """Open (unacknowledged, not yet escalated) alerts of every tenant created before the given time, oldest
        first."""


class DeliveryError(Exception):
    """A delivery attempt failed; ``transient`` ones are retried."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class Notifier(Protocol):
    async def send(self, channel: AlertChannel, alert: Alert, *, escalation: bool = False) -> None:
        """Deliver one alert to one channel; raises DeliveryError."""
