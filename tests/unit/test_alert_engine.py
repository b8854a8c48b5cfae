"""The alert engine with in-memory fakes and trio's mock clock: cooldowns, suppressed counts, retries, escalation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import trio
import trio.testing

from adapters.storage.memory_alerts import InMemoryAlertRepository, InMemoryDedupStore
from app.actors.alerts import AlertEngine, AlertPolicy
from domain.alerting import Alert, AlertChannel, AlertStatus, ChannelKind
from domain.findings import SecurityFinding, Severity
from domain.providers import Provider
from domain.traces import TraceSpan
from ports.alerting import DeliveryError
from tests.unit.fakes import RecordingTelemetry


class RecordingNotifier:
    def __init__(self, fail_times: int = 0) -> None:
        self.sent: list[tuple[str, Alert, bool]] = []
        self.fail_times = fail_times
        self.attempts = 0

    async def send(self, channel: AlertChannel, alert: Alert, *, escalation: bool = False) -> None:
        self.attempts += 1
        if self.attempts <= self.fail_times:
            raise DeliveryError("receiver down")
        self.sent.append((channel.name, alert, escalation))


def span(tenant: str, kind: str = "prompt_injection", severity: Severity = Severity.HIGH, score: int = 80) -> TraceSpan:
    finding = SecurityFinding(id="f", severity=severity, finding_type=kind, description="d", confidence=0.9)
    return TraceSpan(
        span_id="s",
        trace_id="t",
        tenant_id=tenant,
        operation_name="chat_completion",
        start_time=dt.datetime.now(dt.UTC),
        provider=Provider.OPENAI,
        model_name="m",
        prompt="p",
        security_score=score,
        security_findings=(finding,),
    )


CHANNELS = (
    AlertChannel(name="hook", kind=ChannelKind.WEBHOOK, url="http://x", min_severity=Severity.HIGH),
    AlertChannel(
        name="pager", kind=ChannelKind.PAGERDUTY, url="http://y", routing_key="k", min_severity=Severity.CRITICAL
    ),
    AlertChannel(name="oncall", kind=ChannelKind.WEBHOOK, url="http://z", escalation_only=True),
)


class TappedEngine(AlertEngine):
    """The engine with its intake tap at hand, as the analysis actor holds it."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.tap, self.candidates = self.intake()

    def offer(self, span: TraceSpan) -> None:
        self.tap.offer(span)


async def run_engine(engine: TappedEngine, body: Any) -> None:
    """The engine fed through its intake tap, as the analysis actor feeds it; closing the tap ends it."""
    async with trio.open_nursery() as nursery:
        await nursery.start(engine.run, engine.candidates)
        await body()
        engine.tap.close()


async def test_channels_cooldown_and_suppressed_counts(autojump_clock: trio.testing.MockClock) -> None:
    notifier = RecordingNotifier()
    telemetry = RecordingTelemetry()
    engine = TappedEngine(
        AlertPolicy(channels=CHANNELS, cooldown_s=60),
        InMemoryDedupStore(),
        InMemoryAlertRepository(),
        notifier,
        telemetry,
    )

    async def body() -> None:
        engine.offer(span("a"))
        await trio.sleep(1)
        engine.offer(span("a"))  # same tenant and type inside the cooldown
        engine.offer(span("a"))
        engine.offer(span("b"))  # another tenant
        engine.offer(span("a", "jailbreak", Severity.CRITICAL, 95))  # another type; critical reaches the pager too
        await trio.sleep(1)
        assert sorted((name, alert.tenant_id) for name, alert, _ in notifier.sent) == [
            ("hook", "a"),
            ("hook", "a"),
            ("hook", "b"),
            ("pager", "a"),
        ]
        assert telemetry.alert_events[("suppressed", "prompt_injection")] == 2
        await trio.sleep(60)
        engine.offer(span("a"))
        await trio.sleep(1)
        last = [alert for name, alert, _ in notifier.sent if name == "hook" and alert.tenant_id == "a"][-1]
        assert last.suppressed_count == 2

    await run_engine(engine, body)


async def test_retries_then_delivers(autojump_clock: trio.testing.MockClock) -> None:
    notifier = RecordingNotifier(fail_times=2)
    engine = TappedEngine(
        AlertPolicy(channels=CHANNELS[:1]),
        InMemoryDedupStore(),
        InMemoryAlertRepository(),
        notifier,
        RecordingTelemetry(),
    )

    async def body() -> None:
        engine.offer(span("a"))
        await trio.sleep(10)
        assert notifier.attempts == 3 and len(notifier.sent) == 1

    await run_engine(engine, body)


async def test_escalation_only_for_unacknowledged(autojump_clock: trio.testing.MockClock) -> None:
    notifier = RecordingNotifier()
    alerts = InMemoryAlertRepository()
    engine = TappedEngine(
        AlertPolicy(channels=CHANNELS, cooldown_s=0.01, escalation_enabled=True, escalate_after_s=30),
        InMemoryDedupStore(),
        alerts,
        notifier,
        RecordingTelemetry(),
    )

    async def body() -> None:
        engine.offer(span("acked"))
        engine.offer(span("ignored"))
        await trio.sleep(1)
        acked = next(a for a in alerts.alerts.values() if a.tenant_id == "acked")
        await alerts.save(attrs.evolve(acked, status=AlertStatus.ACKNOWLEDGED))
        # escalation compares wall-clock creation times: move the alerts into the past instead of waiting
        for alert in list(alerts.alerts.values()):
            old = attrs.evolve(alert, created_at=alert.created_at - dt.timedelta(minutes=5))
            await alerts.save(old)
        await trio.sleep(40)
        escalated = [(name, alert.tenant_id, alert.severity) for name, alert, esc in notifier.sent if esc]
        assert escalated == [("oncall", "ignored", Severity.CRITICAL)]

    await run_engine(engine, body)


async def test_shutdown_with_escalation_on_does_not_wait_for_the_escalation_loop(
    autojump_clock: trio.testing.MockClock,
) -> None:
    engine = TappedEngine(
        AlertPolicy(channels=CHANNELS, escalation_enabled=True, escalate_after_s=600),
        InMemoryDedupStore(),
        InMemoryAlertRepository(),
        RecordingNotifier(),
        RecordingTelemetry(),
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(engine.run, engine.candidates)
        engine.offer(span("a"))
        await trio.sleep(1)
        closed_at = trio.current_time()
        engine.tap.close()
    # delivered already, nothing queued: the engine ends at once rather than at its 10 s delivery deadline
    assert trio.current_time() - closed_at < 1
