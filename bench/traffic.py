"""``just bench traffic``: two production-profile replicas sharing Redis hold one rate limit and one spend ledger.

Starts the mock upstream and two proxies on the production profile (each its own embedded ClickHouse, one shared
PostgreSQL database and Redis), with ``rate_limiting`` at 50 rps / burst 50 and cost caps on. Then:

- 200 concurrent clients send requests, alternating replicas, for ``--seconds``; a token bucket admits at most
  ``burst + rate x elapsed`` (elapsed from the first to the last admission); prints admitted against that bound;
- the spend recorded in Redis (GET /api/v1/costs/current) against the sum of the stored spans' costs of both replicas.

Results go to stdout and bench/results/traffic-<time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import Proxy, create_database, drop_database, start_mock, start_proxy

CHAT = "/v1/chat/completions"
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "traffic bench"}]}


async def _exchange(stream: trio.SocketStream, request: bytes, buffer: bytearray) -> int:
    """One request on a keep-alive connection; the status. A minimal HTTP/1.1 client: the load generator must cost
    far less than the two proxies it measures on the same two cores (httpx's client does not)."""
    await stream.send_all(request)
    while b"\r\n\r\n" not in buffer:
        data = await stream.receive_some(65536)
        if not data:
            raise ConnectionError("closed")
        buffer += data
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = bytearray(rest)
    while len(body) < length:
        data = await stream.receive_some(65536)
        if not data:
            raise ConnectionError("closed")
        body += data
    buffer[:] = body[length:]
    return status


async def hammer(urls: list[str], tenant: dict[str, str], clients: int, seconds: float) -> dict[str, Any]:
    admitted = refused = errors = 0
    stop_at = trio.current_time() + seconds
    payload = json.dumps(BODY).encode()

    async def worker(i: int) -> None:
        nonlocal admitted, refused, errors
        url = httpx.URL(urls[i % len(urls)])  # each client keeps one connection to one replica
        request = (
            f"POST {CHAT} HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: application/json\r\n"
            f"X-LLMTrace-Tenant-ID: {tenant['X-LLMTrace-Tenant-ID']}\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload
        while trio.current_time() < stop_at:
            try:
                stream = await trio.open_tcp_stream(url.host, url.port or 80)
                async with stream:
                    buffer = bytearray()
                    while trio.current_time() < stop_at:
                        status = await _exchange(stream, request, buffer)
                        if status == 200:
                            admitted += 1
                        elif status == 429:
                            refused += 1
                        else:
                            errors += 1
            except (OSError, ConnectionError, trio.BrokenResourceError):
                errors += 1

    async with trio.open_nursery() as nursery:
        for i in range(clients):
            nursery.start_soon(worker, i)
    return {"admitted": admitted, "refused": refused, "errors": errors}


def stored_spans(proxy: Proxy, tenant: dict[str, str], expected: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    spans: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        spans = []
        offset = 0
        while True:
            page = proxy.api("/api/v1/spans", headers=tenant, params={"limit": 1000, "offset": offset}).json()
            spans.extend(page["data"])
            offset += 1000
            if offset >= page["total"]:
                break
        if len(spans) >= expected:
            break
        time.sleep(0.2)
    return spans


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench traffic")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rps", type=float, default=50.0)
    parser.add_argument("--burst", type=int, default=50)
    args = parser.parse_args(argv)
    name = f"llmtrace_bench_{uuid.uuid4().hex[:8]}"
    dsn = create_database(name)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        mock = start_mock(tmp)

        def replica(label: str) -> Proxy:
            return start_proxy(
                tmp,
                mock.url,
                {
                    "logging": {"level": "warn"},
                    "storage": {
                        "profile": "production",
                        "clickhouse_url": f"chdb://{tmp / ('ch-' + label)}",
                        "postgres_url": dsn,
                        "redis_url": "redis://127.0.0.1:6379/0",
                    },
                    "rate_limiting": {"enabled": True, "requests_per_second": args.rps, "burst_size": args.burst},
                    "cost_caps": {
                        "enabled": True,
                        "default_budget_caps": [{"window": "daily", "hard_limit_usd": 1_000_000}],
                    },
                },
            )

        a, b = replica("a"), replica("b")
        try:
            tenant = {"X-LLMTrace-Tenant-ID": str(uuid.uuid4())}
            run = trio.run(hammer, [a.url, b.url], tenant, args.clients, args.seconds)
            admitted = run["admitted"]
            deadline = time.monotonic() + 60
            while True:  # until both replicas have written every admitted exchange
                spans_a = stored_spans(a, tenant, 0)
                spans_b = stored_spans(b, tenant, 0)
                if len(spans_a) + len(spans_b) >= admitted or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            spans = spans_a + spans_b
            # Admission times are the spans' start times (the gate admits just before the exchange starts).
            starts = sorted(dt.datetime.fromisoformat(s["start_time"].replace("Z", "+00:00")) for s in spans)
            elapsed = (starts[-1] - starts[0]).total_seconds() if len(starts) > 1 else 0.0
            bound = args.burst + args.rps * elapsed
            times = spans
            count_a, count_b = len(spans_a), len(spans_b)
            stored_cost = sum(s["estimated_cost_usd"] or 0.0 for s in spans)
            deadline = time.monotonic() + 30
            recorded = 0.0
            while time.monotonic() < deadline:
                snapshot = a.api("/api/v1/costs/current", headers=tenant).json()
                recorded = snapshot["windows"][0]["current_spend_usd"]
                if abs(recorded - stored_cost) < 1e-9:
                    break
                time.sleep(0.2)
            results = {
                "clients": args.clients,
                "limit": {"requests_per_second": args.rps, "burst_size": args.burst},
                "admitted": len(times),
                "refused": run["refused"],
                "errors": run["errors"],
                "admission_span_s": round(elapsed, 3),
                "bucket_allows": round(bound, 1),
                "admitted_vs_allowed": round(len(times) / bound, 4) if bound else None,
                "spans_stored": {"replica_a": count_a, "replica_b": count_b},
                "stored_spans_cost_usd": round(stored_cost, 9),
                "recorded_spend_usd": round(recorded, 9),
                "spend_matches": abs(recorded - stored_cost) < 1e-9,
            }
        finally:
            a.process.stop()
            b.process.stop()
            mock.process.stop()
            drop_database(name)
    print(json.dumps(results, indent=2))
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"traffic-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
