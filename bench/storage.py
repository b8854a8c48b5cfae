"""``just bench storage``: batched span writes per second, and REST query latency with 100,000 stored spans.

Writes N spans (one tenant, realistic prompt/response sizes, a few models) through the real storage adapter in
batches of the storage actor's default size, then starts the proxy on that store and times ``GET /api/v1/traces``
and ``GET /api/v1/spans`` over HTTP.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from adapters.storage.sqlite import SqliteTraceRepository
from domain.providers import Provider
from domain.traces import TraceSpan
from ports.repositories import TraceRepository
from tests.conftest import start_mock, start_proxy

MODELS = ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet", "o3-mini"]


def make_spans(tenant: str, n: int) -> list[TraceSpan]:
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    spans = []
    for i in range(n):
        spans.append(
            TraceSpan(
                span_id=str(uuid.uuid4()),
                trace_id=str(uuid.uuid4()),
                tenant_id=tenant,
                operation_name="chat_completion",
                start_time=base + dt.timedelta(seconds=i),
                end_time=base + dt.timedelta(seconds=i, milliseconds=800),
                provider=Provider.OPENAI,
                model_name=MODELS[i % len(MODELS)],
                prompt="user: " + "Summarise this paragraph please. " * 8,
                response="Here is a summary of the paragraph you sent. " * 6,
                prompt_tokens=70,
                completion_tokens=60,
                total_tokens=130,
                duration_ms=800,
                status_code=200,
                estimated_cost_usd=0.0001,
                security_score=(i * 7) % 101 if i % 10 == 0 else None,
            )
        )
    return spans


async def write_all(repo: TraceRepository, spans: list[TraceSpan], batch: int) -> float:
    started = time.perf_counter()
    for i in range(0, len(spans), batch):
        await repo.store_spans(spans[i : i + batch])
    return time.perf_counter() - started


def time_queries(url: str, headers: dict[str, str], rounds: int) -> dict[str, Any]:
    cases = {
        "traces (first page, limit 50)": ("/api/v1/traces", {}),
        "traces model filter": ("/api/v1/traces", {"model": "gpt-4o"}),
        "traces deep page (offset 50000)": ("/api/v1/traces", {"offset": 50000}),
        "traces time window (1 h)": (
            "/api/v1/traces",
            {"start_time": "2026-01-01T10:00:00Z", "end_time": "2026-01-01T11:00:00Z"},
        ),
        "spans security_score_min=50": ("/api/v1/spans", {"security_score_min": 50}),
    }
    out: dict[str, Any] = {}
    with httpx.Client(timeout=60) as client:
        for name, (path, params) in cases.items():
            times = []
            for _ in range(rounds + 2):
                started = time.perf_counter()
                response = client.get(url + path, headers=headers, params=params)
                assert response.status_code == 200, response.text
                times.append((time.perf_counter() - started) * 1000)
            times = times[2:]
            out[name] = {"p50_ms": statistics.median(times), "max_ms": max(times), "total": response.json()["total"]}
    return out


def clickhouse_over_http(tmp: Path, spans: list[TraceSpan], tenant: str, args: Any) -> dict[str, Any]:
    """The production profile end to end: ClickHouse over HTTP (the test front on chDB), PostgreSQL, Redis."""
    from adapters.storage.clickhouse import ClickHouseTraceRepository
    from tests.conftest import ROOT, Process, create_database, drop_database, free_port, wait_http

    port = free_port()
    front = Process(
        [sys.executable, "-m", "tests.clickhouse_front", str(tmp / "ch-http"), str(port)],
        None,
        tmp / "front.log",
        cwd=ROOT,
    )
    wait_http(f"http://127.0.0.1:{port}/ping")
    out: dict[str, Any] = {}
    pg = f"llmtrace_bench_{uuid.uuid4().hex[:8]}"
    try:
        repo = ClickHouseTraceRepository(f"http://127.0.0.1:{port}", "llmtrace")
        elapsed = trio.run(write_all, repo, spans, args.batch)
        out["clickhouse_http_write"] = {"spans_per_second": len(spans) / elapsed}
        print(
            f"ClickHouse over HTTP: {len(spans)} spans in batches of {args.batch}: {len(spans) / elapsed:,.0f} spans/s"
        )
        mock = start_mock(tmp)
        proxy = start_proxy(
            tmp,
            mock.url,
            {
                "logging": {"level": "warn"},
                "storage": {
                    "profile": "production",
                    "clickhouse_url": f"http://127.0.0.1:{port}",
                    "postgres_url": create_database(pg),
                    "redis_url": "redis://127.0.0.1:6379/0",
                },
            },
        )
        try:
            out["clickhouse_queries"] = time_queries(proxy.url, {"X-LLMTrace-Tenant-ID": tenant}, args.rounds)
        finally:
            proxy.process.stop()
            mock.process.stop()
        for name, r in out["clickhouse_queries"].items():
            print(f"  production {name}: p50 {r['p50_ms']:.1f} ms, max {r['max_ms']:.1f} ms (total {r['total']})")
    finally:
        front.stop()
        drop_database(pg)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench storage")
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--out", default="bench/results/storage.json")
    parser.add_argument(
        "--clickhouse-http",
        action="store_true",
        help="also run the production profile with ClickHouse over HTTP (PostgreSQL and Redis up)",
    )
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="llmtrace-bench-storage-"))
    db = tmp / "bench.db"
    tenant = str(uuid.uuid4())
    spans = make_spans(tenant, args.spans)
    repo = SqliteTraceRepository.open(str(db))
    elapsed = trio.run(write_all, repo, spans, args.batch)
    trio.run(repo.close)
    results: dict[str, Any] = {
        "sqlite_write": {
            "spans": args.spans,
            "batch": args.batch,
            "seconds": elapsed,
            "spans_per_second": args.spans / elapsed,
        },
    }
    print(
        f"SQLite: {args.spans} spans in batches of {args.batch}: {elapsed:.1f} s = {args.spans / elapsed:,.0f} spans/s"
    )
    from adapters.storage.clickhouse import ClickHouseTraceRepository

    ch = ClickHouseTraceRepository(f"chdb://{tmp / 'clickhouse'}", "llmtrace_bench")
    ch_elapsed = trio.run(write_all, ch, spans, args.batch)
    results["clickhouse_write"] = {
        "spans": args.spans,
        "batch": args.batch,
        "seconds": ch_elapsed,
        "spans_per_second": args.spans / ch_elapsed,
    }
    print(
        f"ClickHouse (chDB): {args.spans} spans in batches of {args.batch}: {ch_elapsed:.1f} s = "
        f"{args.spans / ch_elapsed:,.0f} spans/s"
    )
    from domain.queries import TraceQuery

    ch_times: dict[str, list[float]] = {}
    cases = {
        "traces (first page, limit 50)": TraceQuery(tenant_id=tenant),
        "traces model filter": TraceQuery(tenant_id=tenant, model_name="gpt-4o"),
        "traces deep page (offset 50000)": TraceQuery(tenant_id=tenant, offset=50000),
        "spans security_score_min=50": TraceQuery(tenant_id=tenant, min_security_score=50),
    }
    for name, query in cases.items():
        for _ in range(5):
            started = time.perf_counter()
            trio.run(ch.query_spans if name.startswith("spans") else ch.query_traces, query)
            ch_times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    results["clickhouse_queries_in_process"] = {k: {"p50_ms": statistics.median(v)} for k, v in ch_times.items()}
    for name, value in results["clickhouse_queries_in_process"].items():
        print(f"  ClickHouse {name} (adapter call, no HTTP): p50 {value['p50_ms']:.1f} ms")
    mock = start_mock(tmp)
    proxy = start_proxy(
        tmp, mock.url, {"storage": {"profile": "lite", "database_path": str(db)}, "logging": {"level": "warn"}}
    )
    try:
        results["sqlite_queries"] = time_queries(proxy.url, {"X-LLMTrace-Tenant-ID": tenant}, args.rounds)
    finally:
        proxy.process.stop()
        mock.process.stop()
    for name, r in results["sqlite_queries"].items():
        print(f"  {name}: p50 {r['p50_ms']:.1f} ms, max {r['max_ms']:.1f} ms (total {r['total']})")
    if args.clickhouse_http:
        results.update(clickhouse_over_http(tmp, spans, tenant, args))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
