"""SQLite alert store (the `lite` profile), in the trace database."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.engine import Connection, Engine

from adapters.codec import alert_from_json, alert_to_json
from adapters.storage.sqlite import SqliteStore, ts
from domain.alerting import Alert
from domain.queries import Page


class SqliteAlertRepository(SqliteStore):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)

    async def save(self, alert: Alert) -> None:
        await self._run(
            lambda c: c.exec_driver_sql(
                "INSERT INTO alerts (id, tenant_id, created_at, status, data) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET status = excluded.status, data = excluded.data",
                (alert.id, alert.tenant_id, ts(alert.created_at), alert.status.value, json.dumps(alert_to_json(alert))),
            ),
            write=True,
        )

    async def get(self, tenant_id: str, alert_id: str) -> Alert | None:
        def read(c: Connection) -> Alert | None:
            row = c.exec_driver_sql(
                "SELECT data FROM alerts WHERE id = ? AND tenant_id = ?", (alert_id, tenant_id)
            ).first()
            return None if row is None else alert_from_json(json.loads(row[0]))

        return await self._run(read)

    async def list_alerts(self, tenant_id: str, limit: int, offset: int) -> Page[Alert]:
        def read(c: Connection) -> Page[Alert]:
            total = c.exec_driver_sql("SELECT count(*) FROM alerts WHERE tenant_id = ?", (tenant_id,)).scalar_one()
            rows = c.exec_driver_sql(
                "SELECT data FROM alerts WHERE tenant_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                (tenant_id, limit, offset),
            )
            return Page(
                items=[alert_from_json(json.loads(r[0])) for r in rows], total=total, limit=limit, offset=offset
            )

        return await self._run(read)

    async def due_for_escalation(self, created_before: dt.datetime) -> list[Alert]:
        return await self._run(
            lambda c: [
                alert_from_json(json.loads(r[0]))
                for r in c.exec_driver_sql(
                    "SELECT data FROM alerts WHERE status = 'open' AND created_at < ? ORDER BY created_at",
                    (ts(created_before),),
                )
            ]
        )
