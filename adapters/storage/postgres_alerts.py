"""PostgreSQL alert store (production profile): the alerts table of the metadata database (migration 3), so every
replica sees the same alerts, acknowledgements and escalations."""

from __future__ import annotations

import datetime as dt
import json

from adapters.codec import alert_from_json, alert_to_json
from adapters.storage.postgres import PostgresMetadataRepository
from domain.alerting import Alert
from domain.queries import Page


class PostgresAlertRepository:
    def __init__(self, database: PostgresMetadataRepository) -> None:
        self._db = database

    async def save(self, alert: Alert) -> None:
        await self._db.call(
            "execute",
            "INSERT INTO alerts (id, tenant_id, created_at, status, data) VALUES ($1, $2, $3, $4, $5::jsonb) "
            "ON CONFLICT (id) DO UPDATE SET status = excluded.status, data = excluded.data",
            alert.id,
            alert.tenant_id,
            alert.created_at,
            alert.status.value,
            json.dumps(alert_to_json(alert)),
        )

    async def get(self, tenant_id: str, alert_id: str) -> Alert | None:
        data = await self._db.call(
            "fetchval", "SELECT data FROM alerts WHERE id = $1 AND tenant_id = $2", alert_id, tenant_id
        )
        return None if data is None else alert_from_json(json.loads(data))

    async def list_alerts(self, tenant_id: str, limit: int, offset: int) -> Page[Alert]:
        total = await self._db.call("fetchval", "SELECT count(*) FROM alerts WHERE tenant_id = $1", tenant_id)
        rows = await self._db.call(
            "fetch",
            "SELECT data FROM alerts WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
            tenant_id,
            limit,
            offset,
        )
        return Page(
            items=[alert_from_json(json.loads(r["data"])) for r in rows], total=int(total), limit=limit, offset=offset
        )

    async def due_for_escalation(self, created_before: dt.datetime) -> list[Alert]:
        rows = await self._db.call(
            "fetch",
            "SELECT data FROM alerts WHERE status = 'open' AND created_at < $1 ORDER BY created_at",
            created_before,
        )
        return [alert_from_json(json.loads(r["data"])) for r in rows]

    async def health_check(self) -> None:
        await self._db.health_check()
