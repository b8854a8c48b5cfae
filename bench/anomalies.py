"""``just bench anomalies``: false alarms on steady traffic and time to detect each kind of spike.

Scripted traffic for one tenant and two agents: a steady phase (``--steady`` exchanges, one a second, with the
noise real traffic has: tokens, cost and latency vary by +-10-20%, 2% of exchanges fail), then, one after another
with steady traffic between them, a spike in each metric:

- tokens: one exchange 40x the usual size; cost: one exchange 40x the usual cost; latency: one exchange 6x slower;
- velocity: a burst at 20 requests a second on top of the steady one; error rate: every exchange failing.

It reports the anomalies raised during the steady phase (expected: none), and for each spike how many exchanges and
seconds after its start the first anomaly of its kind was raised, on the in-memory baseline store and on Redis (when
one answers on 127.0.0.1:6379), with what judging one exchange costs. Results: ``bench/results/anomalies.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from adapters.storage.memory_baselines import InMemoryBaselineStore
from adapters.storage.redis_baselines import RedisBaselineStore
from app.use_cases.anomaly_watch import AnomalyWatch
from domain.anomaly import AnomalyPolicy
from domain.providers import Provider
from domain.traces import TraceSpan
from ports.anomaly import BaselineStore
from tests.unit.fakes import RecordingTelemetry

T0 = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)


class Script:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.at = T0
        self.n = 0

    def span(self, gap_s: float = 1.0, **overrides: Any) -> TraceSpan:
        self.n += 1
        self.at += dt.timedelta(seconds=gap_s)
        agent = "summariser" if self.n % 3 else "coder"
        tokens = int(self.rng.gauss(1200, 150) if agent == "coder" else self.rng.gauss(400, 60))
        values: dict[str, Any] = {
            "span_id": str(uuid.uuid4()),
            "trace_id": str(uuid.uuid4()),
            "tenant_id": "bench-tenant",
            "operation_name": "chat_completion",
            "start_time": self.at,
            "provider": Provider.OPENAI,
            "model_name": "gpt-4o-mini",
            "prompt": "p",
            "agent_id": agent,
            "total_tokens": max(1, tokens),
            "estimated_cost_usd": max(1, tokens) * 6e-7,
            "duration_ms": max(50, int(self.rng.gauss(900, 150))),
            "status_code": 500 if self.rng.random() < 0.02 else 200,
        }
        values.update(overrides)
        return TraceSpan(**values)


def kinds(span: TraceSpan) -> set[str]:
    return {f.metadata["anomaly_type"] for f in span.security_findings if f.finding_type.startswith("anomaly_")}


async def run(store: BaselineStore, steady: int) -> dict[str, Any]:
    watch = AnomalyWatch(AnomalyPolicy(enabled=True), store, RecordingTelemetry())
    script = Script(seed=11)
    costs: list[float] = []

    async def judge(span: TraceSpan) -> set[str]:
        started = time.perf_counter()
        judged = await watch.inspect(span)
        costs.append((time.perf_counter() - started) * 1e6)
        return kinds(judged)

    false_alarms: dict[str, int] = {}
    for _ in range(steady):
        for kind in await judge(script.span()):
            false_alarms[kind] = false_alarms.get(kind, 0) + 1

    async def settle() -> None:
        for _ in range(200):
            await judge(script.span())

    spikes: dict[str, Any] = {}

    async def single(name: str, kind: str, **overrides: Any) -> None:
        await settle()
        found = kind in await judge(script.span(**overrides))
        spikes[name] = {"detected": found, "exchanges_to_detect": 1 if found else None, "seconds_to_detect": 0.0}

    await single("tokens 40x", "token_spike", total_tokens=16_000)
    await single("cost 40x", "cost_spike", estimated_cost_usd=16_000 * 6e-7)
    await single("latency 6x", "latency_spike", duration_ms=5_400)

    async def sustained(name: str, kind: str, count: int, **overrides: Any) -> None:
        await settle()
        start = script.at
        for i in range(count):
            span = script.span(**overrides)
            if kind in await judge(span):
                spikes[name] = {
                    "detected": True,
                    "exchanges_to_detect": i + 1,
                    "seconds_to_detect": round((span.start_time - start).total_seconds(), 2),
                }
                return
        spikes[name] = {"detected": False, "exchanges_to_detect": None, "seconds_to_detect": None}

    await sustained("velocity 20/s burst", "velocity_spike", 400, gap_s=0.05)
    await sustained("every exchange failing", "error_rate_spike", 100, status_code=503, error_message="HTTP 503")
    return {
        "steady_exchanges": steady,
        "false_alarms_during_steady": false_alarms,
        "spikes": spikes,
        "judging_one_exchange_us": {
            "p50": round(statistics.median(costs), 1),
            "p99": round(sorted(costs)[int(len(costs) * 0.99) - 1], 1),
        },
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"memory": await run(InMemoryBaselineStore(), args.steady)}
    try:
        import redis

        redis.Redis.from_url(args.redis_url, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        results["redis"] = f"skipped: {exc}"
    else:
        store = RedisBaselineStore(args.redis_url, prefix=f"llmtrace-bench-{uuid.uuid4().hex[:8]}:")
        results["redis"] = await run(store, args.steady)
        await store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="just bench anomalies")
    parser.add_argument("--steady", type=int, default=3600, help="steady exchanges before the spikes (one a second)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--out", default="bench/results/anomalies.json")
    args = parser.parse_args()
    results = trio.run(main_async, args)
    print(json.dumps(results, indent=2))
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
