"""Anomaly detection on scripted traffic: a steady baseline raises nothing; a spike in each metric is caught."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import attrs

from adapters.storage.memory_baselines import InMemoryBaselineStore
from app.use_cases.anomaly_watch import AnomalyWatch
from domain.anomaly import AnomalyPolicy
from domain.findings import Severity, security_score
from domain.providers import Provider
from domain.traces import TraceSpan
from tests.unit.fakes import RecordingTelemetry

T0 = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)


class Traffic:
    """One tenant's exchanges, one a second, with the noise real traffic has (seeded: the same every run)."""

    def __init__(self, agent: str | None = None) -> None:
        self.rng = random.Random(7)
        self.at = T0
        self.count = 0
        self.agent = agent

    def span(self, **overrides: object) -> TraceSpan:
        self.count += 1
        self.at += dt.timedelta(seconds=float(overrides.pop("gap_s", 1.0)))  # type: ignore[arg-type]
        tokens = self.rng.randint(110, 130)
        values: dict[str, object] = {
            "span_id": f"s{self.count}",
            "trace_id": f"t{self.count}",
            "tenant_id": "tenant-a",
            "operation_name": "chat_completion",
            "start_time": self.at,
            "provider": Provider.OPENAI,
            "model_name": "gpt-4o-mini",
            "prompt": "p",
            "total_tokens": tokens,
            "estimated_cost_usd": tokens * 1e-5,
            "duration_ms": self.rng.randint(180, 220),
            "status_code": 500 if self.count % 50 == 0 else 200,  # a 2% background error rate
            "agent_id": self.agent,
        }
        values.update(overrides)
        return TraceSpan(**values)  # type: ignore[arg-type]

    def steady(self, n: int) -> Iterator[TraceSpan]:
        for _ in range(n):
            yield self.span()


def watch() -> tuple[AnomalyWatch, RecordingTelemetry]:
    telemetry = RecordingTelemetry()
    return AnomalyWatch(AnomalyPolicy(enabled=True), InMemoryBaselineStore(), telemetry), telemetry


def anomalies(span: TraceSpan) -> dict[str, Severity]:
    return {f.finding_type: f.severity for f in span.security_findings if f.finding_type.startswith("anomaly_")}


async def test_steady_traffic_raises_nothing_then_each_spike_is_caught() -> None:
    detector, telemetry = watch()
    traffic = Traffic()
    for span in traffic.steady(300):
        assert anomalies(await detector.inspect(span)) == {}, span.span_id  # no false alarm in 5 minutes

    tokens = anomalies(await detector.inspect(traffic.span(total_tokens=6000)))
    assert tokens.keys() == {"anomaly_token_spike"} and tokens["anomaly_token_spike"] is Severity.CRITICAL

    assert anomalies(await detector.inspect(traffic.span(duration_ms=350))) == {}  # slower, but not twice as slow
    latency = anomalies(await detector.inspect(traffic.span(duration_ms=450)))
    assert latency.keys() == {"anomaly_latency_spike"} and latency["anomaly_latency_spike"] >= Severity.HIGH

    cost = anomalies(await detector.inspect(traffic.span(estimated_cost_usd=0.05)))
    assert cost.keys() == {"anomaly_cost_spike"}

    for span in traffic.steady(30):  # back to normal
        assert anomalies(await detector.inspect(span)) == {}

    burst = [traffic.span(gap_s=0.05) for _ in range(120)]  # 20 requests a second where there was one
    caught = [i for i, span in enumerate(burst) if "anomaly_velocity_spike" in anomalies(await detector.inspect(span))]
    assert caught and caught[0] < 80  # once the last minute holds twice the usual requests: within 4 s

    for span in traffic.steady(120):
        await detector.inspect(span)
    failures = [traffic.span(status_code=503, error_message="upstream returned HTTP 503") for _ in range(20)]
    flagged = [
        i for i, span in enumerate(failures) if "anomaly_error_rate_spike" in anomalies(await detector.inspect(span))
    ]
    assert flagged and flagged[0] < 8  # a handful of failures in a row is already unusual at a 2% error rate
    assert telemetry.anomalies["token_spike"] == 1 and telemetry.anomalies["error_rate_spike"] >= 1


async def test_agents_have_their_own_baseline_and_anomalies_never_raise_the_security_score() -> None:
    detector, _ = watch()
    quiet, busy = Traffic(agent="summariser"), Traffic(agent="coder")
    for a, b in zip(quiet.steady(60), busy.steady(60), strict=True):
        await detector.inspect(a)
        await detector.inspect(attrs.evolve(b, total_tokens=b.total_tokens * 40))  # the coder always sends 40x
    normal_for_coder = await detector.inspect(busy.span(total_tokens=4800))
    assert "anomaly_token_spike" not in anomalies(normal_for_coder)  # usual for its agent...
    # ...though not for the tenant, whose baseline mixes both: the tenant scope may flag it, never the agent's
    spike = await detector.inspect(quiet.span(total_tokens=4800))
    finding = next(f for f in spike.security_findings if f.finding_type == "anomaly_token_spike")
    assert finding.metadata["scope"] == "agent:summariser" and finding.requires_alert
    assert security_score(spike.security_findings) is None  # operational: not an attack


async def test_a_dead_baseline_store_lets_spans_through_and_is_counted() -> None:
    class Broken(InMemoryBaselineStore):
        async def observe(self, samples: object, window: int) -> list[list[float]]:
            raise ConnectionError("redis down")

    telemetry = RecordingTelemetry()
    detector = AnomalyWatch(AnomalyPolicy(enabled=True), Broken(), telemetry)
    span = Traffic().span()
    assert await detector.inspect(span) == span
    assert telemetry.failures["anomaly_baselines"] == 1
