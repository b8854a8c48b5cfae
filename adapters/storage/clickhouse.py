"""ClickHouse trace store (production profile) on clickhouse-connect: a server URL or ``chdb://PATH`` (the embedded
engine), so the same SQL runs in tests, single-node setups and against a cluster.

Partitioned by month, ordered by (tenant, time, span): sane with many tenants (the original partitioned by tenant x
month). ``ReplacingMergeTree(version)`` keyed on the span makes a retried batch or a re-stored span replace the row
instead of duplicating it; reads use ``FINAL``. Every filter, order and page is computed in ClickHouse. The sync
client runs in worker threads (its async client is asyncio-only); the embedded engine takes one call at a time.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import clickhouse_connect
import trio

from adapters.storage.rows import SpanRows, usage_row
from domain.queries import ActionSummary, Page, StorageStats, TraceQuery, summarize_actions
from domain.reports import FindingCount
from domain.traces import TraceEvent, TraceSpan
from domain.usage import (
    DIMENSION_FIELDS,
    MAX_USAGE_ROWS,
    PERCENTILES,
    SEVERITY_KEYS,
    TimeBucket,
    UsageQuery,
    UsageRow,
)
from ports.repositories import StorageUnavailable

T = TypeVar("T")

COLUMNS = [
    "tenant_id", "trace_id", "span_id", "parent_span_id", "operation_name", "start_time", "end_time", "provider",
    "model_name", "prompt", "response", "prompt_tokens", "completion_tokens", "total_tokens", "tokens_estimated",
    "time_to_first_token_ms", "duration_ms", "status_code", "error_message", "estimated_cost_usd", "security_score",
    "security_findings", "analysis_status", "tags", "events", "agent_actions", "agent_id", "end_user_id",
    "request_metadata", "credential", "cached_prompt_tokens", "version",
]  # fmt: skip


def schema(db: str) -> list[str]:
    return [
        f"CREATE DATABASE IF NOT EXISTS {db}",
        f"""CREATE TABLE IF NOT EXISTS {db}.spans (
            tenant_id String, trace_id String, span_id String, parent_span_id Nullable(String),
            operation_name LowCardinality(String), start_time DateTime64(6, 'UTC'),
            end_time Nullable(DateTime64(6, 'UTC')), provider LowCardinality(String),
            model_name LowCardinality(String), prompt String CODEC(ZSTD(1)),
            response Nullable(String) CODEC(ZSTD(1)), prompt_tokens Nullable(UInt32),
            completion_tokens Nullable(UInt32), total_tokens Nullable(UInt32), tokens_estimated UInt8,
            time_to_first_token_ms Nullable(UInt64), duration_ms Nullable(UInt64), status_code Nullable(UInt16),
            error_message Nullable(String), estimated_cost_usd Nullable(Float64), security_score Nullable(UInt8),
            security_findings String CODEC(ZSTD(1)), analysis_status LowCardinality(String), tags String,
            events String, agent_actions String CODEC(ZSTD(1)), agent_id Nullable(String), version UInt64
        ) ENGINE = ReplacingMergeTree(version)
        PARTITION BY toYYYYMM(start_time)
        ORDER BY (tenant_id, start_time, span_id)""",
        # Who made the call (issue: usage by end user and key); a table from an earlier version gains them too.
        f"ALTER TABLE {db}.spans ADD COLUMN IF NOT EXISTS end_user_id Nullable(String)",
        f"ALTER TABLE {db}.spans ADD COLUMN IF NOT EXISTS request_metadata String DEFAULT '{{}}'",
        f"ALTER TABLE {db}.spans ADD COLUMN IF NOT EXISTS credential Nullable(String)",
        f"ALTER TABLE {db}.spans ADD COLUMN IF NOT EXISTS cached_prompt_tokens Nullable(UInt32)",
    ]


def _utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


SPAN_ROWS = SpanRows(lambda value: value, _utc)


def _row(span: TraceSpan, version: int) -> list[Any]:
    row = SPAN_ROWS.row(span)
    row["version"] = version
    return [row[column] for column in COLUMNS]


def _span(row: dict[str, Any]) -> TraceSpan:
    return SPAN_ROWS.span(row)


def span_conditions(query: TraceQuery, params: dict[str, Any]) -> list[str]:
    """Filters on span columns (the tenant is always part of the WHERE clause, not of these)."""
    out = []
    if query.start_time is not None:
        out.append("start_time >= {start_time:DateTime64(6, 'UTC')}")
        params["start_time"] = query.start_time
    if query.end_time is not None:
        out.append("start_time <= {end_time:DateTime64(6, 'UTC')}")
        params["end_time"] = query.end_time
    for column, value in (
        ("provider", query.provider.value if query.provider else None),
        ("model_name", query.model_name),
        ("operation_name", query.operation_name),
        ("agent_id", query.agent_id),
        ("end_user_id", query.end_user_id),
        ("trace_id", query.trace_id),
    ):
        if value is not None:
            out.append(f"{column} = {{{column}:String}}")
            params[column] = value
    if query.min_security_score is not None:
        out.append("ifNull(security_score, 0) >= {score_min:UInt8}")
        params["score_min"] = query.min_security_score
    if query.max_security_score is not None:
        out.append("ifNull(security_score, 0) <= {score_max:UInt8}")
        params["score_max"] = query.max_security_score
    if query.has_findings:
        out.append("security_findings != '[]'")
    for key, value in (("finding_type", query.finding_type), ("severity", query.finding_severity)):
        if value is not None:
            out.append(
                f"arrayExists(x -> JSONExtractString(x, '{key}') = {{f_{key}:String}}, "
                f"JSONExtractArrayRaw(security_findings))"
            )
            params[f"f_{key}"] = value
    return out


class ClickHouseTraceRepository:
    def __init__(self, url: str, database: str = "llmtrace", *, create: bool = True) -> None:
        if not database.isidentifier():
            raise ValueError(f"invalid ClickHouse database name {database!r}")
        try:
            if url.startswith("chdb://"):
                self._client = clickhouse_connect.get_client(dsn=url)
                self._limiter = trio.CapacityLimiter(1)
            else:
                self._client = clickhouse_connect.get_client(dsn=url, compress=False)
                self._limiter = trio.CapacityLimiter(4)
            if create:
                for statement in schema(database):
                    self._client.command(statement)
        except Exception as exc:
            raise StorageUnavailable(f"clickhouse: {exc}") from exc
        self._db = database

    async def _run(self, fn: Callable[[], T]) -> T:
        def work() -> T:
            try:
                return fn()
            except StorageUnavailable:
                raise
            except Exception as exc:
                raise StorageUnavailable(f"clickhouse: {exc}") from exc

        return await trio.to_thread.run_sync(work, limiter=self._limiter)

    def _rows(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        result = self._client.query(sql, parameters=params)
        return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]

    async def store_spans(self, spans: Sequence[TraceSpan]) -> None:
        if not spans:
            return
        version = time.time_ns()
        rows = [_row(s, version) for s in spans]
        await self._run(lambda: self._client.insert(f"{self._db}.spans", rows, column_names=COLUMNS))

    async def query_spans(self, query: TraceQuery) -> Page[TraceSpan]:
        params: dict[str, Any] = {"tenant": query.tenant_id, "limit": query.limit, "offset": query.offset}
        where = " AND ".join(["tenant_id = {tenant:String}", *span_conditions(query, params)])

        def read() -> Page[TraceSpan]:
            total = self._client.query(
                f"SELECT count() FROM {self._db}.spans FINAL WHERE {where}", parameters=params
            ).result_rows[0][0]
            rows = self._rows(
                f"SELECT * FROM {self._db}.spans FINAL WHERE {where} ORDER BY start_time DESC, span_id DESC "
                "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
                params,
            )
            return Page(items=[_span(r) for r in rows], total=int(total), limit=query.limit, offset=query.offset)

        return await self._run(read)

    async def query_traces(self, query: TraceQuery) -> Page[TraceEvent]:
        params: dict[str, Any] = {"tenant": query.tenant_id, "limit": query.limit, "offset": query.offset}
        conditions = span_conditions(query, params)
        having = f"HAVING countIf({' AND '.join(conditions)}) > 0" if conditions else ""
        grouped = (
            f"SELECT trace_id, min(start_time) AS created FROM {self._db}.spans FINAL "
            f"WHERE tenant_id = {{tenant:String}} GROUP BY trace_id {having}"
        )

        def read() -> Page[TraceEvent]:
            total = self._client.query(f"SELECT count() FROM ({grouped})", parameters=params).result_rows[0][0]
            page = self._client.query(
                f"{grouped} ORDER BY created DESC, trace_id DESC LIMIT {{limit:UInt32}} OFFSET {{offset:UInt32}}",
                parameters=params,
            ).result_rows
            ids = [row[0] for row in page]
            spans: dict[str, list[TraceSpan]] = {i: [] for i in ids}
            if ids:
                for row in self._rows(
                    f"SELECT * FROM {self._db}.spans FINAL WHERE tenant_id = {{tenant:String}} "
                    "AND trace_id IN {ids:Array(String)} ORDER BY start_time",
                    {"tenant": query.tenant_id, "ids": ids},
                ):
                    spans[row["trace_id"]].append(_span(row))
            items = [
                TraceEvent(
                    trace_id=tid,
                    tenant_id=query.tenant_id,
                    created_at=_utc(created) or dt.datetime.now(dt.UTC),
                    spans=tuple(spans[tid]),
                )
                for tid, created in page
            ]
            return Page(items=items, total=int(total), limit=query.limit, offset=query.offset)

        return await self._run(read)

    async def get_trace(self, tenant_id: str, trace_id: str) -> TraceEvent | None:
        def read() -> TraceEvent | None:
            rows = self._rows(
                f"SELECT * FROM {self._db}.spans FINAL WHERE tenant_id = {{t:String}} AND "
                "trace_id = {id:String} ORDER BY start_time",
                {"t": tenant_id, "id": trace_id},
            )
            if not rows:
                return None
            spans = tuple(_span(r) for r in rows)
            return TraceEvent(trace_id=trace_id, tenant_id=tenant_id, created_at=spans[0].start_time, spans=spans)

        return await self._run(read)

    async def get_span(self, tenant_id: str, span_id: str) -> TraceSpan | None:
        def read() -> TraceSpan | None:
            rows = self._rows(
                f"SELECT * FROM {self._db}.spans FINAL WHERE tenant_id = {{t:String}} AND "
                "span_id = {id:String} LIMIT 1",
                {"t": tenant_id, "id": span_id},
            )
            return _span(rows[0]) if rows else None

        return await self._run(read)

    async def usage(self, query: UsageQuery) -> list[UsageRow]:
        params: dict[str, Any] = {}
        where = []
        if query.tenant_id is not None:
            where.append("tenant_id = {tenant:String}")
            params["tenant"] = query.tenant_id
        if query.start_time is not None:
            where.append("start_time >= {start:DateTime64(6, 'UTC')}")
            params["start"] = query.start_time
        if query.end_time is not None:
            where.append("start_time < {end:DateTime64(6, 'UTC')}")
            params["end"] = query.end_time
        groups = [f"{DIMENSION_FIELDS[d]} AS g{i}" for i, d in enumerate(query.group_by)]
        bucket = _BUCKET_FUNCTION[query.bucket] + "(start_time)" if query.bucket is not None else "NULL"
        keys = ", ".join([*(f"g{i}" for i in range(len(query.group_by))), "bucket"])

        def nearest_rank(column: str, name: str) -> str:
            if not query.percentiles:
                return ", ".join(f"NULL AS {name}_p{round(p * 100)}" for p in PERCENTILES)
            # The value at rank ceil(p x n) of the sorted non-null values, as every store defines it:
            # quantilesExactLow(q) takes the element at index floor(q x n), which is ceil(p x n) - 1 for q just
            # below p (checked against the definition for n up to 2,000 and exercised by the contract suite).
            levels = ", ".join(f"{p - 1e-9:.9f}" for p in PERCENTILES)
            return ", ".join(
                f"if(count({column}) = 0, NULL, quantilesExactLow({levels})({column})[{i + 1}]) "
                f"AS {name}_p{round(p * 100)}"
                for i, p in enumerate(PERCENTILES)
            )

        severities = ", ".join(
            f"sum(arrayCount(x -> JSONExtractString(x, 'severity') = '{s.capitalize()}' AND NOT "
            f"startsWith(JSONExtractString(x, 'finding_type'), 'analysis_'), JSONExtractArrayRaw(security_findings)))"
            f" AS findings_{s}"
            for s in SEVERITY_KEYS
        )
        sql = (
            f"SELECT {', '.join([*groups, f'{bucket} AS bucket'])}, count() AS requests, "
            "countIf(status_code IS NULL OR status_code >= 400 OR error_message IS NOT NULL) AS errors, "
            "sum(ifNull(prompt_tokens, 0)) AS prompt_tokens, sum(ifNull(completion_tokens, 0)) AS completion_tokens, "
            "sum(ifNull(cached_prompt_tokens, 0)) AS cached_prompt_tokens, sum(ifNull(total_tokens, 0)) AS "
            f"total_tokens, sum(ifNull(estimated_cost_usd, 0)) AS cost_usd, {severities}, "
            f"{nearest_rank('duration_ms', 'latency')}, {nearest_rank('time_to_first_token_ms', 'ttft')} "
            f"FROM {self._db}.spans FINAL {'WHERE ' + ' AND '.join(where) if where else ''} "
            f"GROUP BY {keys} LIMIT {MAX_USAGE_ROWS}"
        )

        def read() -> list[UsageRow]:
            return [_usage_row(row, query) for row in self._rows(sql, params)]

        return await self._run(read)

    async def finding_counts(
        self, tenant_id: str, start: dt.datetime | None, end: dt.datetime | None
    ) -> list[FindingCount]:
        params: dict[str, Any] = {"tenant": tenant_id}
        where = ["tenant_id = {tenant:String}", "security_findings != '[]'"]
        if start is not None:
            where.append("start_time >= {start:DateTime64(6, 'UTC')}")
            params["start"] = start
        if end is not None:
            where.append("start_time < {end:DateTime64(6, 'UTC')}")
            params["end"] = end
        sql = (
            "SELECT JSONExtractString(f, 'finding_type') AS finding_type, JSONExtractString(f, 'severity') AS "
            f"severity, count() AS n FROM {self._db}.spans FINAL ARRAY JOIN JSONExtractArrayRaw(security_findings) "
            f"AS f WHERE {' AND '.join(where)} GROUP BY finding_type, severity ORDER BY finding_type, severity"
        )

        def read() -> list[FindingCount]:
            return [
                FindingCount(finding_type=r["finding_type"], severity=r["severity"], count=int(r["n"]))
                for r in self._rows(sql, params)
            ]

        return await self._run(read)

    async def stats(self, tenant_id: str | None) -> StorageStats:
        where = "WHERE tenant_id = {t:String}" if tenant_id is not None else ""
        params = {"t": tenant_id} if tenant_id is not None else {}

        def read() -> StorageStats:
            spans, size = self._client.query(
                f"SELECT count(), sum(length(prompt) + length(ifNull(response, ''))) FROM {self._db}.spans FINAL "
                f"{where}",
                parameters=params,
            ).result_rows[0]
            traces, oldest, newest = self._client.query(
                f"SELECT count(), min(created), max(created) FROM (SELECT tenant_id, trace_id, min(start_time) AS "
                f"created FROM {self._db}.spans FINAL {where} GROUP BY tenant_id, trace_id)",
                parameters=params,
            ).result_rows[0]
            empty = int(traces) == 0
            return StorageStats(
                total_traces=int(traces),
                total_spans=int(spans),
                storage_size_bytes=int(size or 0),
                oldest_trace=None if empty else _utc(oldest),
                newest_trace=None if empty else _utc(newest),
            )

        return await self._run(read)

    async def action_summary(self, query: TraceQuery) -> ActionSummary:
        params: dict[str, Any] = {"tenant": query.tenant_id}
        where = " AND ".join(["tenant_id = {tenant:String}", *span_conditions(query, params)])

        def read() -> ActionSummary:
            total = self._client.query(
                f"SELECT count() FROM {self._db}.spans FINAL WHERE {where}", parameters=params
            ).result_rows[0][0]
            rows = self._client.query(
                f"SELECT agent_actions FROM {self._db}.spans FINAL WHERE {where} AND agent_actions != '[]'",
                parameters=params,
            ).result_rows
            lists = [[(a["action_type"], a["name"]) for a in json.loads(r[0])] for r in rows]
            return summarize_actions(int(total), lists)

        return await self._run(read)

    async def health_check(self) -> None:
        await self._run(lambda: self._client.command("SELECT 1"))

    async def close(self) -> None:
        try:
            self._client.close()
        except Exception:  # noqa: BLE001 - closing a dead connection is fine
            pass


_BUCKET_FUNCTION = {
    TimeBucket.MINUTE: "toStartOfMinute",
    TimeBucket.HOUR: "toStartOfHour",
    TimeBucket.DAY: "toStartOfDay",
}


def _usage_row(row: dict[str, Any], query: UsageQuery) -> UsageRow:
    group = {d.value: row[f"g{i}"] for i, d in enumerate(query.group_by)}
    return usage_row(row, group, _utc(row["bucket"]) if query.bucket is not None else None)
