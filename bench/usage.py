"""``just bench usage``: how fast the usage API answers on large stores.

- SQLite (the default store) with 100,000 spans, written through the real adapter; each usage query timed through
  the store and over HTTP against a proxy started on that file (``GET /api/v1/usage``).
- ClickHouse (the embedded engine, chDB: the same SQL a server runs) with 1,000,000 spans, generated inside the
  engine (``INSERT ... SELECT FROM numbers(...)``) so the setup does not take longer than the measurement; each usage
  query timed through the store adapter.

Each query runs ``--rounds`` times; the report gives p50 and max in milliseconds. Results: ``bench/results/usage.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from adapters.storage.clickhouse import COLUMNS, ClickHouseTraceRepository
from adapters.storage.sqlite import SqliteTraceRepository
from domain.findings import SecurityFinding, Severity
from domain.providers import Provider
from domain.traces import TraceSpan
from domain.usage import TimeBucket, UsageDimension, UsageQuery
from ports.repositories import TraceRepository
from tests.conftest import start_mock, start_proxy

TENANT = "5d0f7e8a-0c1b-4d2e-9f3a-1b2c3d4e5f60"
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
MODELS = ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet", "claude-3-5-haiku", "o3-mini", "gpt-4.1", "mistral-large"]

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("totals", {}),
    ("by model", {"group_by": (UsageDimension.MODEL,)}),
    ("by user (500 users)", {"group_by": (UsageDimension.USER,)}),
    ("by model, hourly (30 days)", {"group_by": (UsageDimension.MODEL,), "bucket": TimeBucket.HOUR}),
    ("by api key and agent, daily",
     {"group_by": (UsageDimension.API_KEY, UsageDimension.AGENT), "bucket": TimeBucket.DAY}),
    ("one week by model", {"group_by": (UsageDimension.MODEL,), "start_time": T0 + dt.timedelta(days=7),
                           "end_time": T0 + dt.timedelta(days=14)}),
    ("by model, hourly, sums only", {"group_by": (UsageDimension.MODEL,), "bucket": TimeBucket.HOUR,
                                     "percentiles": False}),
]  # fmt: skip

HTTP_QUERIES = [
    ("totals", {}),
    ("by model", {"group_by": "model"}),
    ("by user (500 users)", {"group_by": "user"}),
    ("by model, hourly (30 days)", {"group_by": "model", "bucket": "hour"}),
    ("by model, hourly, sums only", {"group_by": "model", "bucket": "hour", "percentiles": "false"}),
]


def spans_for_sqlite(n: int) -> list[TraceSpan]:
    rng = random.Random(1)
    finding = SecurityFinding(
        id="f", severity=Severity.HIGH, finding_type="prompt_injection", description="d", confidence=0.9
    )
    out = []
    for i in range(n):
        model = MODELS[i % len(MODELS)]
        out.append(
            TraceSpan(
                span_id=str(uuid.uuid4()),
                trace_id=str(uuid.uuid4()),
                tenant_id=TENANT,
                operation_name="chat_completion",
                start_time=T0 + dt.timedelta(seconds=i * 30 * 86400 / n),
                provider=Provider.ANTHROPIC if model.startswith("claude") else Provider.OPENAI,
                model_name=model,
                prompt="user: " + "x" * 200,
                response="y" * 300,
                prompt_tokens=rng.randint(50, 2000),
                completion_tokens=rng.randint(10, 500),
                total_tokens=1000,
                cached_prompt_tokens=rng.choice([None, 0, 128]),
                estimated_cost_usd=rng.random() / 100,
                duration_ms=rng.randint(200, 4000),
                time_to_first_token_ms=rng.randint(50, 800),
                status_code=500 if i % 97 == 0 else 200,
                agent_id=f"agent-{i % 50}",
                end_user_id=f"user-{i % 500}",
                credential=f"llmt_{i % 30:07d}…",
                security_findings=(finding,) if i % 40 == 0 else (),
            )
        )
    return out


async def timed(fn: Callable[[], Awaitable[Any]], rounds: int) -> dict[str, float]:
    await fn()  # warm caches, as a dashboard refreshing the same view would
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1)}


async def bench_store(store: TraceRepository, rounds: int) -> dict[str, Any]:
    out = {}
    for label, params in QUERIES:
        query = UsageQuery(tenant_id=TENANT, **params)
        rows = len(await store.usage(query))
        out[label] = {**(await timed(lambda q=query: store.usage(q), rounds)), "rows": rows}  # type: ignore[misc]
        print(f"  {label}: p50 {out[label]['p50_ms']} ms, max {out[label]['max_ms']} ms ({rows} rows)")
    return out


def sqlite_http(path: Path, rounds: int) -> dict[str, Any]:
    mock = start_mock(path.parent)
    proxy = start_proxy(path.parent, mock.url, {"storage": {"profile": "lite", "database_path": str(path)}})
    out = {}
    try:
        with httpx.Client(base_url=proxy.url, timeout=120, headers={"X-LLMTrace-Tenant-ID": TENANT}) as client:
            for label, params in HTTP_QUERIES:
                client.get("/api/v1/usage", params=params).raise_for_status()
                samples = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    client.get("/api/v1/usage", params=params).raise_for_status()
                    samples.append((time.perf_counter() - started) * 1000)
                out[label] = {"p50_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1)}
                print(f"  HTTP {label}: p50 {out[label]['p50_ms']} ms, max {out[label]['max_ms']} ms")
    finally:
        proxy.process.stop()
        mock.process.stop()
    return out


def fill_clickhouse(store: ClickHouseTraceRepository, n: int) -> float:
    """1M spans generated inside the engine: the same columns the adapter writes, values varied like real traffic."""
    started = time.perf_counter()
    models = "[" + ",".join(f"'{m}'" for m in MODELS) + "]"
    finding = json.dumps(
        [{"id": "f", "severity": "High", "finding_type": "prompt_injection", "description": "d",
          "confidence_score": 0.9, "location": None, "detected_at": "", "metadata": {}, "requires_alert": False}]
    )  # fmt: skip
    select = {
        "tenant_id": f"'{TENANT}'",
        "trace_id": "toString(generateUUIDv4(number))",
        "span_id": "toString(generateUUIDv4(number + 1))",
        "parent_span_id": "NULL",
        "operation_name": "'chat_completion'",
        "start_time": f"toDateTime64('{T0:%Y-%m-%d %H:%M:%S}', 6, 'UTC') "
                      f"+ toIntervalMillisecond(intDiv(number * 2592000000, {n}))",
        "end_time": "NULL",
        "provider": f"if(startsWith(arrayElement({models}, number % {len(MODELS)} + 1), 'claude'), 'anthropic', "
                    "'openai')",
        "model_name": f"arrayElement({models}, number % {len(MODELS)} + 1)",
        "prompt": "concat('user: ', repeat('x', 200))",
        "response": "repeat('y', 300)",
        "prompt_tokens": "50 + cityHash64(number) % 1950",
        "completion_tokens": "10 + cityHash64(number, 1) % 490",
        "total_tokens": "1000",
        "tokens_estimated": "0",
        "time_to_first_token_ms": "50 + cityHash64(number, 2) % 750",
        "duration_ms": "200 + cityHash64(number, 3) % 3800",
        "status_code": "if(number % 97 = 0, 500, 200)",
        "error_message": "NULL",
        "estimated_cost_usd": "(cityHash64(number, 4) % 10000) / 1000000.0",
        "security_score": "if(number % 40 = 0, 80, NULL)",
        "security_findings": f"if(number % 40 = 0, '{finding}', '[]')",
        "analysis_status": "'completed'",
        "tags": "'{}'",
        "events": "'[]'",
        "agent_actions": "'[]'",
        "agent_id": "concat('agent-', toString(number % 50))",
        "end_user_id": "concat('user-', toString(number % 500))",
        "request_metadata": "'{}'",
        "credential": "concat('llmt_', leftPad(toString(number % 30), 7, '0'), '…')",
        "cached_prompt_tokens": "if(number % 3 = 0, 128, NULL)",
        "version": "1",
    }  # fmt: skip
    assert list(select) == COLUMNS
    sql = f"INSERT INTO {store._db}.spans ({', '.join(COLUMNS)}) SELECT {', '.join(select.values())} FROM numbers({n})"
    store._client.command(sql)
    store._client.command(f"OPTIMIZE TABLE {store._db}.spans FINAL")
    return time.perf_counter() - started


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": "2 shared cores", "rounds": args.rounds}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "usage.db"
        sqlite = SqliteTraceRepository.open(str(path))
        spans = spans_for_sqlite(args.sqlite_spans)
        started = time.perf_counter()
        for i in range(0, len(spans), 5000):
            await sqlite.store_spans(spans[i : i + 5000])
        print(f"SQLite: {len(spans)} spans written in {time.perf_counter() - started:.1f} s")
        results["sqlite"] = {"spans": len(spans), "store": await bench_store(sqlite, args.rounds)}
        await sqlite.close()
        results["sqlite"]["http"] = sqlite_http(path, args.rounds)
        if args.clickhouse_spans:
            clickhouse = ClickHouseTraceRepository(f"chdb://{Path(tmp) / 'ch'}", "usage_bench")
            seconds = await trio.to_thread.run_sync(fill_clickhouse, clickhouse, args.clickhouse_spans)
            print(f"ClickHouse (chDB): {args.clickhouse_spans} spans generated in {seconds:.1f} s")
            results["clickhouse_chdb"] = {
                "spans": args.clickhouse_spans,
                "store": await bench_store(clickhouse, args.rounds),
            }
            await clickhouse.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="just bench usage")
    parser.add_argument("--sqlite-spans", type=int, default=100_000)
    parser.add_argument("--clickhouse-spans", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="bench/results/usage.json")
    args = parser.parse_args()
    results = trio.run(main_async, args)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
