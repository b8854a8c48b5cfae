"""SQLite trace store (the `lite` profile): SQLAlchemy Core on a sync engine, WAL, versioned migrations.

Each public method runs one whole transaction in a worker thread (``trio.to_thread.run_sync``), so the trio
thread never blocks on the database. Filtering, ordering and pagination are done in SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
import trio
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

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
    counted_findings,
)
from ports.repositories import StorageUnavailable

log = logging.getLogger("llmtrace.storage")

T = TypeVar("T")

# Fills the per-severity finding counts of spans stored before migration 5 from their JSON findings.
_FILL_SEVERITY_COUNTS = "UPDATE spans SET " + ", ".join(
    f"findings_{severity.lower()} = (SELECT count(*) FROM json_each(spans.security_findings) "
    f"WHERE json_extract(value, '$.severity') = '{severity}' "
    "AND json_extract(value, '$.finding_type') NOT LIKE 'analysis^_%' ESCAPE '^')"
    for severity in ("Info", "Low", "Medium", "High", "Critical")
)

# (version, description, statements). Append only: a shipped migration never changes.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "traces and spans",
        [
            """CREATE TABLE IF NOT EXISTS traces (
                trace_id TEXT NOT NULL, tenant_id TEXT NOT NULL, created_at TEXT NOT NULL,
                PRIMARY KEY (tenant_id, trace_id))""",
            "CREATE INDEX IF NOT EXISTS idx_traces_tenant_created ON traces (tenant_id, created_at)",
            """CREATE TABLE IF NOT EXISTS spans (
                span_id TEXT NOT NULL, trace_id TEXT NOT NULL, parent_span_id TEXT, tenant_id TEXT NOT NULL,
                operation_name TEXT NOT NULL, start_time TEXT NOT NULL, end_time TEXT,
                provider TEXT NOT NULL, model_name TEXT NOT NULL, prompt TEXT NOT NULL, response TEXT,
                prompt_tokens INTEGER, completion_tokens INTEGER, total_tokens INTEGER,
                tokens_estimated INTEGER NOT NULL DEFAULT 0,
                time_to_first_token_ms INTEGER, duration_ms INTEGER, status_code INTEGER, error_message TEXT,
                estimated_cost_usd REAL, security_score INTEGER, security_findings TEXT NOT NULL DEFAULT '[]',
                analysis_status TEXT NOT NULL DEFAULT 'pending',
                tags TEXT NOT NULL DEFAULT '{}', events TEXT NOT NULL DEFAULT '[]',
                agent_actions TEXT NOT NULL DEFAULT '[]', agent_id TEXT,
                PRIMARY KEY (tenant_id, span_id))""",
            "CREATE INDEX IF NOT EXISTS idx_spans_tenant_trace ON spans (tenant_id, trace_id)",
            "CREATE INDEX IF NOT EXISTS idx_spans_tenant_start ON spans (tenant_id, start_time)",
            "CREATE INDEX IF NOT EXISTS idx_spans_tenant_provider ON spans (tenant_id, provider)",
            "CREATE INDEX IF NOT EXISTS idx_spans_tenant_model ON spans (tenant_id, model_name)",
            "CREATE INDEX IF NOT EXISTS idx_spans_tenant_score ON spans (tenant_id, security_score)",
            "CREATE INDEX IF NOT EXISTS idx_spans_tenant_operation ON spans (tenant_id, operation_name)",
        ],
    ),
    (
        2,
        "tenants, tenant settings, api keys, audit events (secrets stored as SHA-256 only)",
        [
            """CREATE TABLE IF NOT EXISTS tenants (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, plan TEXT NOT NULL, created_at TEXT NOT NULL,
                config TEXT NOT NULL DEFAULT '{}', token_hash TEXT NOT NULL UNIQUE, token_prefix TEXT NOT NULL)""",
            """CREATE TABLE IF NOT EXISTS tenant_settings (
                tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
                monitoring_scope TEXT NOT NULL DEFAULT 'hybrid', security_thresholds TEXT NOT NULL DEFAULT '{}',
                feature_flags TEXT NOT NULL DEFAULT '{}', rate_limit_rpm INTEGER, monthly_budget REAL)""",
            """CREATE TABLE IF NOT EXISTS api_keys (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, key_prefix TEXT NOT NULL, role TEXT NOT NULL,
                created_at TEXT NOT NULL, revoked_at TEXT)""",
            "CREATE INDEX IF NOT EXISTS idx_api_keys_tenant ON api_keys (tenant_id)",
            """CREATE TABLE IF NOT EXISTS audit_events (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, event_type TEXT NOT NULL, actor TEXT NOT NULL,
                resource TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}', timestamp TEXT NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS idx_audit_tenant_time ON audit_events (tenant_id, timestamp)",
            "CREATE INDEX IF NOT EXISTS idx_audit_tenant_type ON audit_events (tenant_id, event_type)",
        ],
    ),
    (
        3,
        "alerts",
        [
            """CREATE TABLE IF NOT EXISTS alerts (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL,
                data TEXT NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS idx_alerts_tenant_created ON alerts (tenant_id, created_at)",
            "CREATE INDEX IF NOT EXISTS idx_alerts_status_created ON alerts (status, created_at)",
        ],
    ),
    (4, "tenant data protection policy", ["ALTER TABLE tenant_settings ADD COLUMN data_protection TEXT"]),
    (
        5,
        "who made each call (end user, request metadata, credential) and cached prompt tokens",
        [
            "ALTER TABLE spans ADD COLUMN end_user_id TEXT",
            "ALTER TABLE spans ADD COLUMN request_metadata TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE spans ADD COLUMN credential TEXT",
            "ALTER TABLE spans ADD COLUMN cached_prompt_tokens INTEGER",
            # Findings per severity, kept beside the JSON so usage sums them in SQL (written with each span).
            "ALTER TABLE spans ADD COLUMN findings_info INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE spans ADD COLUMN findings_low INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE spans ADD COLUMN findings_medium INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE spans ADD COLUMN findings_high INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE spans ADD COLUMN findings_critical INTEGER NOT NULL DEFAULT 0",
            _FILL_SEVERITY_COUNTS,
            "CREATE INDEX IF NOT EXISTS idx_spans_tenant_agent ON spans (tenant_id, agent_id)",
        ],
    ),
    (
        6,
        "compliance reports",
        [
            """CREATE TABLE IF NOT EXISTS compliance_reports (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
                data TEXT NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS idx_reports_tenant_created ON compliance_reports (tenant_id, created_at)",
        ],
    ),
    (
        7,
        "a covering index for usage queries (they never read the prompt and response pages)",
        [
            """CREATE INDEX IF NOT EXISTS idx_spans_usage ON spans (tenant_id, start_time, model_name, provider,
                agent_id, credential, end_user_id, operation_name, status_code, error_message, prompt_tokens,
                completion_tokens, cached_prompt_tokens, total_tokens, estimated_cost_usd, duration_ms,
                time_to_first_token_ms, findings_info, findings_low, findings_medium, findings_high,
                findings_critical)""",
        ],
    ),
]

metadata = sa.MetaData()
traces_table = sa.Table(
    "traces",
    metadata,
    sa.Column("trace_id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("created_at", sa.Text),
)
spans_table = sa.Table(
    "spans",
    metadata,
    sa.Column("span_id", sa.Text, primary_key=True),
    sa.Column("trace_id", sa.Text),
    sa.Column("parent_span_id", sa.Text),
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("operation_name", sa.Text),
    sa.Column("start_time", sa.Text),
    sa.Column("end_time", sa.Text),
    sa.Column("provider", sa.Text),
    sa.Column("model_name", sa.Text),
    sa.Column("prompt", sa.Text),
    sa.Column("response", sa.Text),
    sa.Column("prompt_tokens", sa.Integer),
    sa.Column("completion_tokens", sa.Integer),
    sa.Column("total_tokens", sa.Integer),
    sa.Column("tokens_estimated", sa.Integer),
    sa.Column("time_to_first_token_ms", sa.Integer),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("status_code", sa.Integer),
    sa.Column("error_message", sa.Text),
    sa.Column("estimated_cost_usd", sa.Float),
    sa.Column("security_score", sa.Integer),
    sa.Column("security_findings", sa.Text),
    sa.Column("analysis_status", sa.Text),
    sa.Column("tags", sa.Text),
    sa.Column("events", sa.Text),
    sa.Column("agent_actions", sa.Text),
    sa.Column("agent_id", sa.Text),
    sa.Column("end_user_id", sa.Text),
    sa.Column("request_metadata", sa.Text),
    sa.Column("credential", sa.Text),
    sa.Column("cached_prompt_tokens", sa.Integer),
    sa.Column("findings_info", sa.Integer),
    sa.Column("findings_low", sa.Integer),
    sa.Column("findings_medium", sa.Integer),
    sa.Column("findings_high", sa.Integer),
    sa.Column("findings_critical", sa.Integer),
)


def ts(value: dt.datetime | None) -> str | None:
    """Fixed-width UTC text, so that string order is time order."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_ts(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


SPAN_ROWS = SpanRows(ts, from_ts)


def span_row(span: TraceSpan) -> dict[str, Any]:
    row = SPAN_ROWS.row(span)
    row.update({f"findings_{severity}": count for severity, count in counted_findings(span.security_findings).items()})
    return row


def span_from_row(row: Any) -> TraceSpan:
    return SPAN_ROWS.span(row._mapping)


def span_filters(query: TraceQuery) -> list[sa.ColumnElement[bool]]:
    s = spans_table.c
    clauses: list[sa.ColumnElement[bool]] = [s.tenant_id == query.tenant_id]
    if query.start_time is not None:
        clauses.append(s.start_time >= ts(query.start_time))
    if query.end_time is not None:
        clauses.append(s.start_time <= ts(query.end_time))
    if query.provider is not None:
        clauses.append(s.provider == query.provider.value)
    if query.model_name is not None:
        clauses.append(s.model_name == query.model_name)
    if query.operation_name is not None:
        clauses.append(s.operation_name == query.operation_name)
    if query.agent_id is not None:
        clauses.append(s.agent_id == query.agent_id)
    if query.end_user_id is not None:
        clauses.append(s.end_user_id == query.end_user_id)
    if query.trace_id is not None:
        clauses.append(s.trace_id == query.trace_id)
    if query.has_findings:
        clauses.append(s.security_findings != "[]")
    for key, value in (("finding_type", query.finding_type), ("severity", query.finding_severity)):
        if value is not None:
            findings = sa.func.json_each(s.security_findings).table_valued("value").alias(f"f_{key}")
            clauses.append(
                sa.exists(
                    sa.select(sa.literal(1))
                    .select_from(findings)
                    .where(sa.func.json_extract(findings.c.value, f"$.{key}") == value)
                )
            )
    if query.min_security_score is not None:
        clauses.append(sa.func.coalesce(s.security_score, 0) >= query.min_security_score)
    if query.max_security_score is not None:
        clauses.append(sa.func.coalesce(s.security_score, 0) <= query.max_security_score)
    return clauses


def _has_span_filters(query: TraceQuery) -> bool:
    return (
        any(
            v is not None
            for v in (
                query.start_time,
                query.end_time,
                query.provider,
                query.model_name,
                query.operation_name,
                query.agent_id,
                query.end_user_id,
                query.trace_id,
                query.min_security_score,
                query.max_security_score,
                query.finding_type,
                query.finding_severity,
            )
        )
        or query.has_findings
    )


def apply_migrations(conn: Connection) -> list[int]:
    """Apply pending migrations, each in its own transaction; returns the versions applied."""
    conn.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL,"
        " description TEXT NOT NULL)"
    )
    conn.commit()
    done = {row[0] for row in conn.exec_driver_sql("SELECT version FROM schema_version")}
    conn.commit()
    applied = []
    for version, description, statements in MIGRATIONS:
        if version in done:
            continue
        with conn.begin():
            for statement in statements:
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql(
                "INSERT INTO schema_version (version, applied_at, description) VALUES (?, ?, ?)",
                (version, ts(dt.datetime.now(dt.UTC)), description),
            )
        applied.append(version)
    return applied


class SqliteStore:
    """Runs each operation as one transaction in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # One writer at a time (SQLite serialises writes anyway); readers run beside it under WAL.
        self._write_limiter = trio.CapacityLimiter(1)
        self._read_limiter = trio.CapacityLimiter(4)

    @property
    def engine(self) -> Engine:
        return self._engine

    async def _run(self, fn: Callable[[Connection], T], *, write: bool = False) -> T:
        def work() -> T:
            try:
                with self._engine.begin() as conn:
                    return fn(conn)
            except sa.exc.OperationalError as exc:
                raise StorageUnavailable(str(exc.orig)) from exc

        limiter = self._write_limiter if write else self._read_limiter
        return await trio.to_thread.run_sync(work, limiter=limiter)

    async def health_check(self) -> None:
        await self._run(lambda conn: conn.exec_driver_sql("SELECT 1").scalar_one())


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


class SqliteTraceRepository(SqliteStore):
    """Traces in one SQLite file. If the file is deleted or replaced under a running proxy (open connections would
    go on writing into the unlinked file, and every later trace would be lost unseen), the next write or health
    check notices, logs it, and recreates the database at the same path."""

    def __init__(self, engine: Engine, *, migrate: bool = True) -> None:
        super().__init__(engine)
        database = engine.url.database
        self._path = Path(database) if database and database != ":memory:" else None
        self._file = _identity(self._path) if self._path is not None else None
        self._migrate = migrate
        self.recreated = 0

    @classmethod
    def open(cls, database_path: str, *, migrate: bool = True) -> SqliteTraceRepository:
        engine = create_engine(database_path)
        try:
            if migrate:
                with engine.connect() as conn:
                    apply_migrations(conn)
            else:
                with engine.connect() as conn:
                    conn.exec_driver_sql("SELECT 1")
        except sa.exc.DBAPIError as exc:
            engine.dispose()
            raise StorageUnavailable(f"cannot open SQLite database {database_path}: {exc.orig}") from exc
        return cls(engine, migrate=migrate)

    def _ensure_file(self) -> None:
        """Runs in the worker thread, before each write and health check (one stat call)."""
        if self._path is None or _identity(self._path) == self._file:
            return
        log.error("SQLite database %s was deleted or replaced while in use; recreating it", self._path)
        self._engine.dispose()
        if not self._path.exists():
            for suffix in ("-wal", "-shm"):  # the old file's journal must not be replayed into the new one
                Path(str(self._path) + suffix).unlink(missing_ok=True)
        with self._engine.connect() as conn:
            apply_migrations(conn)
        self._file = _identity(self._path)
        self.recreated += 1

    async def _run(self, fn: Callable[[Connection], T], *, write: bool = False) -> T:
        if write:

            def work() -> T:
                try:
                    self._ensure_file()
                    with self._engine.begin() as conn:
                        return fn(conn)
                except sa.exc.OperationalError as exc:
                    raise StorageUnavailable(str(exc.orig)) from exc

            return await trio.to_thread.run_sync(work, limiter=self._write_limiter)
        return await super()._run(fn)

    async def health_check(self) -> None:
        """Can a write start now? (Reads keep working under a lock that blocks every write, so SELECT 1 is not
        enough: the storage writer asks this to tell an outage from a span the store refuses.)"""

        def probe() -> None:
            try:
                self._ensure_file()
                raw = self._engine.raw_connection()
                try:
                    cursor = raw.cursor()
                    cursor.execute("PRAGMA busy_timeout=1000")
                    try:
                        cursor.execute("BEGIN IMMEDIATE")
                        cursor.execute("ROLLBACK")
                    finally:
                        cursor.execute("PRAGMA busy_timeout=10000")
                        cursor.close()
                finally:
                    raw.close()
            except (sa.exc.DBAPIError, sqlite3.Error) as exc:
                raise StorageUnavailable(f"SQLite database {self._path} cannot take writes: {exc}") from exc

        await trio.to_thread.run_sync(probe, limiter=self._write_limiter)

    async def store_spans(self, spans: Sequence[TraceSpan]) -> None:
        if not spans:
            return

        def write(conn: Connection) -> None:
            rows = [span_row(s) for s in spans]  # JSON encoding of large spans: in the worker thread too
            trace_rows: dict[tuple[str, str], str] = {}
            for row in rows:
                key = (row["tenant_id"], row["trace_id"])
                if key not in trace_rows or row["start_time"] < trace_rows[key]:
                    trace_rows[key] = row["start_time"]
            conn.exec_driver_sql(
                "INSERT INTO traces (trace_id, tenant_id, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (tenant_id, trace_id) DO UPDATE SET created_at = min(created_at, excluded.created_at)",
                [(trace_id, tenant_id, created) for (tenant_id, trace_id), created in trace_rows.items()],
            )
            insert = sqlite_insert(spans_table)
            columns = {c: insert.excluded[c] for c in rows[0] if c not in ("tenant_id", "span_id")}
            conn.execute(insert.on_conflict_do_update(index_elements=["tenant_id", "span_id"], set_=columns), rows)

        await self._run(write, write=True)

    async def query_traces(self, query: TraceQuery) -> Page[TraceEvent]:
        t = traces_table.c

        def read(conn: Connection) -> Page[TraceEvent]:
            where: list[sa.ColumnElement[bool]] = [t.tenant_id == query.tenant_id]
            if _has_span_filters(query):
                # IN (uncorrelated) lets SQLite collect the matching trace ids once; a correlated EXISTS
                # re-ran the span lookup per trace (minutes at 100,000 spans).
                matching = sa.select(spans_table.c.trace_id).where(*span_filters(query))
                where.append(t.trace_id.in_(matching))
            total = conn.execute(sa.select(sa.func.count()).select_from(traces_table).where(*where)).scalar_one()
            page = conn.execute(
                sa.select(t.trace_id, t.created_at)
                .where(*where)
                .order_by(t.created_at.desc(), t.trace_id.desc())
                .limit(query.limit)
                .offset(query.offset)
            ).all()
            ids = [row.trace_id for row in page]
            spans_by_trace: dict[str, list[TraceSpan]] = {i: [] for i in ids}
            if ids:
                rows = conn.execute(
                    sa.select(spans_table)
                    .where(spans_table.c.tenant_id == query.tenant_id, spans_table.c.trace_id.in_(ids))
                    .order_by(spans_table.c.start_time)
                )
                for row in rows:
                    spans_by_trace[row.trace_id].append(span_from_row(row))
            items = [
                TraceEvent(
                    trace_id=row.trace_id,
                    tenant_id=query.tenant_id,
                    created_at=from_ts(row.created_at) or dt.datetime.now(dt.UTC),
                    spans=tuple(spans_by_trace[row.trace_id]),
                )
                for row in page
            ]
            return Page(items=items, total=total, limit=query.limit, offset=query.offset)

        return await self._run(read)

    async def query_spans(self, query: TraceQuery) -> Page[TraceSpan]:
        s = spans_table.c

        def read(conn: Connection) -> Page[TraceSpan]:
            where = span_filters(query)
            total = conn.execute(sa.select(sa.func.count()).select_from(spans_table).where(*where)).scalar_one()
            rows = conn.execute(
                sa.select(spans_table)
                .where(*where)
                .order_by(s.start_time.desc(), s.span_id.desc())
                .limit(query.limit)
                .offset(query.offset)
            )
            return Page(items=[span_from_row(r) for r in rows], total=total, limit=query.limit, offset=query.offset)

        return await self._run(read)

    async def get_trace(self, tenant_id: str, trace_id: str) -> TraceEvent | None:
        def read(conn: Connection) -> TraceEvent | None:
            row = conn.execute(
                sa.select(traces_table.c.created_at).where(
                    traces_table.c.tenant_id == tenant_id, traces_table.c.trace_id == trace_id
                )
            ).first()
            if row is None:
                return None
            spans = conn.execute(
                sa.select(spans_table)
                .where(spans_table.c.tenant_id == tenant_id, spans_table.c.trace_id == trace_id)
                .order_by(spans_table.c.start_time)
            )
            return TraceEvent(
                trace_id=trace_id,
                tenant_id=tenant_id,
                created_at=from_ts(row.created_at) or dt.datetime.now(dt.UTC),
                spans=tuple(span_from_row(r) for r in spans),
            )

        return await self._run(read)

    async def get_span(self, tenant_id: str, span_id: str) -> TraceSpan | None:
        def read(conn: Connection) -> TraceSpan | None:
            row = conn.execute(
                sa.select(spans_table).where(spans_table.c.tenant_id == tenant_id, spans_table.c.span_id == span_id)
            ).first()
            return None if row is None else span_from_row(row)

        return await self._run(read)

    async def usage(self, query: UsageQuery) -> list[UsageRow]:
        sql, params = usage_sql(query)

        def read(conn: Connection) -> list[UsageRow]:
            return [sqlite_usage_row(dict(row), query) for row in conn.exec_driver_sql(sql, params).mappings()]

        return await self._run(read)

    async def finding_counts(
        self, tenant_id: str, start: dt.datetime | None, end: dt.datetime | None
    ) -> list[FindingCount]:
        where = ["s.tenant_id = :tenant", "s.security_findings != '[]'"]
        params: dict[str, Any] = {"tenant": tenant_id}
        if start is not None:
            where.append("s.start_time >= :start")
            params["start"] = ts(start)
        if end is not None:
            where.append("s.start_time < :end")
            params["end"] = ts(end)
        sql = (
            "SELECT json_extract(f.value, '$.finding_type') AS finding_type, json_extract(f.value, '$.severity') "
            f"AS severity, count(*) AS n FROM spans s, json_each(s.security_findings) f WHERE {' AND '.join(where)} "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        )

        def read(conn: Connection) -> list[FindingCount]:
            return [
                FindingCount(finding_type=row[0], severity=row[1], count=int(row[2]))
                for row in conn.exec_driver_sql(sql, params)
            ]

        return await self._run(read)

    async def stats(self, tenant_id: str | None) -> StorageStats:
        def read(conn: Connection) -> StorageStats:
            t_where = [] if tenant_id is None else [traces_table.c.tenant_id == tenant_id]
            s_where = [] if tenant_id is None else [spans_table.c.tenant_id == tenant_id]
            traces = conn.execute(
                sa.select(
                    sa.func.count(), sa.func.min(traces_table.c.created_at), sa.func.max(traces_table.c.created_at)
                ).where(*t_where)
            ).one()
            spans = conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.coalesce(
                        sa.func.sum(
                            sa.func.length(spans_table.c.prompt)
                            + sa.func.length(sa.func.coalesce(spans_table.c.response, ""))
                        ),
                        0,
                    ),
                ).where(*s_where)
            ).one()
            return StorageStats(
                total_traces=traces[0],
                total_spans=spans[0],
                storage_size_bytes=int(spans[1]),
                oldest_trace=from_ts(traces[1]),
                newest_trace=from_ts(traces[2]),
            )

        return await self._run(read)

    async def action_summary(self, query: TraceQuery) -> ActionSummary:
        def read(conn: Connection) -> ActionSummary:
            where = span_filters(query)
            total = conn.execute(sa.select(sa.func.count()).select_from(spans_table).where(*where)).scalar_one()
            rows = conn.execute(
                sa.select(spans_table.c.agent_actions).where(*where, spans_table.c.agent_actions != "[]")
            )
            lists = [[(a["action_type"], a["name"]) for a in json.loads(row[0])] for row in rows]
            return summarize_actions(total, lists)

        return await self._run(read)

    async def close(self) -> None:
        self._engine.dispose()


def create_engine(database_path: str) -> Engine:
    if database_path == ":memory:":
        engine = sa.create_engine(
            "sqlite+pysqlite:///:memory:", poolclass=sa.pool.StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        path = Path(database_path)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            f"sqlite+pysqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 10.0}, pool_size=5
        )

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def migrate(database_path: str) -> list[int]:
    engine = create_engine(database_path)
    try:
        with engine.connect() as conn:
            return apply_migrations(conn)
    finally:
        engine.dispose()


_BUCKET_PREFIX = {TimeBucket.MINUTE: 16, TimeBucket.HOUR: 13, TimeBucket.DAY: 10}  # of the fixed-width start_time
_BUCKET_FORMAT = {TimeBucket.MINUTE: "%Y-%m-%dT%H:%M", TimeBucket.HOUR: "%Y-%m-%dT%H", TimeBucket.DAY: "%Y-%m-%d"}


def usage_sql(query: UsageQuery) -> tuple[str, dict[str, Any]]:
    """One statement: sums per group and bucket, and nearest-rank percentiles by window functions (SQLite has no
    percentile aggregate): the value at the first row whose rank reaches p x n. Every column it reads is in the
    covering index ``idx_spans_usage`` (migration 7), so the large text columns are never read."""
    params: dict[str, Any] = {}
    where = []
    if query.tenant_id is not None:
        where.append("tenant_id = :tenant")
        params["tenant"] = query.tenant_id
    if query.start_time is not None:
        where.append("start_time >= :start")
        params["start"] = ts(query.start_time)
    if query.end_time is not None:
        where.append("start_time < :end")
        params["end"] = ts(query.end_time)
    # Group keys are never NULL inside the statement (a missing value is char(0), turned back into None when read),
    # so the joins below are plain equalities SQLite can index, not IS comparisons it scans pair by pair.
    groups = [f"coalesce({DIMENSION_FIELDS[d]}, char(0)) AS g{i}" for i, d in enumerate(query.group_by)]
    bucket = f"substr(start_time, 1, {_BUCKET_PREFIX[query.bucket]})" if query.bucket is not None else "''"
    keys = [f"g{i}" for i in range(len(query.group_by))] + ["bucket"]
    key_list = ", ".join(keys)
    same = " AND ".join(f"a.{k} = {{other}}.{k}" for k in keys)
    severities = ", ".join(f"sum(findings_{s}) AS findings_{s}" for s in SEVERITY_KEYS)

    def ranked(column: str, name: str) -> str:
        # one window pass a metric: the rank within the group; the group's count comes from agg
        cuts = ", ".join(
            f"min(CASE WHEN r.rn >= {p} * a.n_{name} THEN r.v END) AS {name}_p{round(p * 100)}" for p in PERCENTILES
        )
        r_keys = ", ".join(f"r.{k}" for k in keys)
        joined = " AND ".join(f"a.{k} = r.{k}" for k in keys)
        return (
            f"{name} AS (SELECT {r_keys}, {cuts} FROM (SELECT {key_list}, {column} AS v, "
            f"row_number() OVER (PARTITION BY {key_list} ORDER BY {column}) AS rn FROM base "
            f"WHERE {column} IS NOT NULL) r JOIN agg a ON {joined} GROUP BY {r_keys})"
        )

    sql = (
        f"WITH base AS (SELECT {', '.join([*groups, f'{bucket} AS bucket'])}, status_code, error_message, "
        "prompt_tokens, completion_tokens, cached_prompt_tokens, total_tokens, estimated_cost_usd, duration_ms, "
        f"time_to_first_token_ms, {', '.join(f'findings_{s}' for s in SEVERITY_KEYS)} FROM spans"
        f"{' WHERE ' + ' AND '.join(where) if where else ''}), "
        f"agg AS (SELECT {key_list}, count(*) AS requests, count(duration_ms) AS n_latency, "
        "count(time_to_first_token_ms) AS n_ttft, "
        "sum(CASE WHEN status_code IS NULL OR status_code >= 400 OR error_message IS NOT NULL THEN 1 ELSE 0 END) "
        "AS errors, coalesce(sum(prompt_tokens), 0) AS prompt_tokens, "
        "coalesce(sum(completion_tokens), 0) AS completion_tokens, "
        "coalesce(sum(cached_prompt_tokens), 0) AS cached_prompt_tokens, coalesce(sum(total_tokens), 0) AS "
        f"total_tokens, coalesce(sum(estimated_cost_usd), 0.0) AS cost_usd, {severities} "
        f"FROM base GROUP BY {key_list})"
    )
    if not query.percentiles:  # sums only: no window passes
        cuts = ", ".join(f"NULL AS {m}_p{round(p * 100)}" for m in ("latency", "ttft") for p in PERCENTILES)
        return f"{sql} SELECT a.*, {cuts} FROM agg a LIMIT {MAX_USAGE_ROWS}", params
    sql += (
        f", {ranked('duration_ms', 'latency')}, {ranked('time_to_first_token_ms', 'ttft')} "
        f"SELECT a.*, {', '.join(f'l.latency_p{round(p * 100)}' for p in PERCENTILES)}, "
        f"{', '.join(f't.ttft_p{round(p * 100)}' for p in PERCENTILES)} FROM agg a "
        f"LEFT JOIN latency l ON {same.format(other='l')} LEFT JOIN ttft t ON {same.format(other='t')} "
        f"LIMIT {MAX_USAGE_ROWS}"
    )
    return sql, params


def sqlite_usage_row(row: Mapping[str, Any], query: UsageQuery) -> UsageRow:
    bucket_start = None
    if query.bucket is not None and row["bucket"]:
        bucket_start = dt.datetime.strptime(row["bucket"], _BUCKET_FORMAT[query.bucket]).replace(tzinfo=dt.UTC)
    group = {d.value: None if row[f"g{i}"] == "\x00" else row[f"g{i}"] for i, d in enumerate(query.group_by)}
    return usage_row(row, group, bucket_start)
