"""Alert engine: analysed spans in, alerts out to webhook, Slack, PagerDuty and email.

Graph: the intake tap (``intake()``; offered to by the analysis actor, which owns and closes it; cap 256, drop newest
when full, counted) -> evaluator (channel thresholds, cooldown per tenant and finding type through the DedupStore, alert
stored) -> one delivery queue per channel (cap 256, drop newest when full, counted) -> delivery worker (tenacity
retries with exponential backoff, a timeout per attempt). An escalation loop re-sends alerts nobody acknowledged
within ``escalate_after_seconds`` at one severity higher. Nothing here can slow analysis or proxying.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

import attrs
import tenacity
import trio

from app.messages import SpanTap
from domain.alerting import (
    Alert,
    AlertChannel,
    AlertStatus,
    alertable,
    dedup_key,
    escalated_severity,
    new_alert,
)
from domain.traces import TraceSpan
from ports.alerting import AlertRepository, DedupStore, DeliveryError, Notifier
from ports.telemetry import Telemetry

log = logging.getLogger("llmtrace.alerts")

CANDIDATE_CAPACITY = 256
DELIVERY_CAPACITY = 256


@attrs.frozen(kw_only=True)
class AlertPolicy:
    channels: tuple[AlertChannel, ...]
    cooldown_s: float = 300.0
    escalation_enabled: bool = False
    escalate_after_s: float = 600.0
    attempts: int = 5
    attempt_timeout_s: float = 5.0
    initial_backoff_s: float = 0.2
    max_backoff_s: float = 5.0


@attrs.frozen
class Delivery:
    channel: AlertChannel
    alert: Alert
    escalation: bool = False


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, trio.TooSlowError) or (isinstance(exc, DeliveryError) and exc.transient)


class AlertEngine:
    def __init__(
        self,
        policy: AlertPolicy,
        dedup: DedupStore,
        alerts: AlertRepository,
        notifier: Notifier,
        telemetry: Telemetry,
    ) -> None:
        self.policy = policy
        self._dedup = dedup
        self._alerts = alerts
        self._notifier = notifier
        self._telemetry = telemetry
        self._queues = {ch.name: trio.open_memory_channel[Delivery](DELIVERY_CAPACITY) for ch in policy.channels}
        self.dropped = 0

    # -- intake (owned and closed by the analysis actor; offering never blocks) --------------------------------
    def intake(self, capacity: int = CANDIDATE_CAPACITY) -> tuple[SpanTap, trio.MemoryReceiveChannel[TraceSpan]]:
        """The tap the analysis actor offers analysed spans to, and the receiving end to give ``run``."""

        def dropped() -> None:
            self.dropped += 1
            self._telemetry.alert_event("dropped", "candidates")

        return SpanTap.open(capacity, accepts=lambda span: bool(alertable(span.security_findings)), on_drop=dropped)

    async def run(
        self,
        candidates: trio.MemoryReceiveChannel[TraceSpan],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Ends when the intake is closed and drained; queued deliveries get ``2 * attempt_timeout_s`` to finish."""
        async with trio.open_nursery() as nursery:
            for channel in self.policy.channels:
                nursery.start_soon(self._deliver, channel, self._queues[channel.name][1])
            escalation = trio.CancelScope()
            if self.policy.escalation_enabled:
                nursery.start_soon(self._escalate_loop, escalation)
            task_status.started()
            await self._evaluate(candidates)
            escalation.cancel()  # nothing new to escalate once evaluation ends; shutdown never waits on it
            for send, _ in self._queues.values():
                await send.aclose()
            nursery.cancel_scope.deadline = trio.current_time() + 2 * self.policy.attempt_timeout_s

    # -- evaluation -------------------------------------------------------------------------------------------
    async def _evaluate(self, candidates: trio.MemoryReceiveChannel[TraceSpan]) -> None:
        async with candidates:
            async for span in candidates:
                try:
                    await self._consider(span)
                except Exception:
                    log.exception("alert evaluation failed for trace %s", span.trace_id)
                    self._telemetry.pipeline_failure("alerts")

    async def _consider(self, span: TraceSpan) -> None:
        findings = alertable(span.security_findings)
        accepted = {
            ch.name: ch.accepts(span.security_score, findings) for ch in self.policy.channels if not ch.escalation_only
        }
        relevant_types = sorted({f.finding_type for fs in accepted.values() for f in fs})
        if not relevant_types:
            return
        emitted: list[str] = []
        suppressed = 0
        for finding_type in relevant_types:
            key = dedup_key(span.tenant_id, finding_type)
            try:
                fresh = await self._dedup.claim(key, self.policy.cooldown_s)
            except Exception:  # noqa: BLE001 - a dead cooldown store fails open: better two alerts than none
                self._telemetry.pipeline_failure("alert_dedup")
                fresh = True
            if fresh:
                emitted.append(finding_type)
                try:
                    suppressed += await self._dedup.take_suppressed(key)
                except Exception:  # noqa: BLE001
                    self._telemetry.pipeline_failure("alert_dedup")
            else:
                self._telemetry.alert_event("suppressed", finding_type)
                try:
                    await self._dedup.count_suppressed(key)
                except Exception:  # noqa: BLE001
                    self._telemetry.pipeline_failure("alert_dedup")
        if not emitted:
            return
        chosen = [f for f in findings if f.finding_type in emitted]
        targets = [
            ch for ch in self.policy.channels if any(f.finding_type in emitted for f in accepted.get(ch.name, []))
        ]
        alert = attrs.evolve(
            new_alert(
                span.tenant_id,
                span.trace_id,
                span.span_id,
                span.security_score,
                chosen,
                suppressed,
                dt.datetime.now(dt.UTC),
            ),
            channels=tuple(ch.name for ch in targets),
        )
        try:
            await self._alerts.save(alert)
        except Exception:
            log.exception("could not store alert %s", alert.id)
            self._telemetry.pipeline_failure("alert_store")
        self._telemetry.alert_event("emitted", alert.severity.value)
        for channel in targets:
            self._enqueue(Delivery(channel, alert))

    def _enqueue(self, delivery: Delivery) -> None:
        try:
            self._queues[delivery.channel.name][0].send_nowait(delivery)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            self.dropped += 1
            self._telemetry.alert_event("dropped", delivery.channel.name)

    # -- delivery ---------------------------------------------------------------------------------------------
    async def _deliver(self, channel: AlertChannel, queue: trio.MemoryReceiveChannel[Delivery]) -> None:
        async with queue:
            async for delivery in queue:
                try:
                    async for attempt in tenacity.AsyncRetrying(
                        stop=tenacity.stop_after_attempt(self.policy.attempts),
                        wait=tenacity.wait_exponential(
                            multiplier=self.policy.initial_backoff_s, max=self.policy.max_backoff_s
                        ),
                        retry=tenacity.retry_if_exception(_retryable),
                        sleep=trio.sleep,
                        reraise=True,
                    ):
                        with attempt:
                            with trio.fail_after(self.policy.attempt_timeout_s):
                                await self._notifier.send(channel, delivery.alert, escalation=delivery.escalation)
                    self._telemetry.alert_event("delivered", channel.kind.value)
                except Exception as exc:  # noqa: BLE001 - counted and logged; the next alert still goes out
                    log.warning("alert %s to %s failed: %s", delivery.alert.id, channel.name, exc)
                    self._telemetry.alert_event("failed", channel.kind.value)

    # -- escalation -------------------------------------------------------------------------------------------
    async def _escalate_loop(self, scope: trio.CancelScope) -> None:
        interval = min(max(self.policy.escalate_after_s / 4, 0.2), 5.0)
        with scope:
            await self._escalate_every(interval)

    async def _escalate_every(self, interval: float) -> None:
        while True:
            await trio.sleep(interval)
            try:
                await self.escalate_due(dt.datetime.now(dt.UTC))
            except Exception:
                log.exception("escalation pass failed")
                self._telemetry.pipeline_failure("alert_escalation")

    async def escalate_due(self, now: dt.datetime) -> list[Alert]:
        due = await self._alerts.due_for_escalation(now - dt.timedelta(seconds=self.policy.escalate_after_s))
        escalated = []
        for alert in due:
            # One replica escalates a given alert.
            if not await self._dedup.claim(f"escalation:{alert.id}", 7 * 86400):
                continue
            updated = attrs.evolve(
                alert,
                status=AlertStatus.ESCALATED,
                escalated_at=now,
                escalation_level=alert.escalation_level + 1,
                severity=escalated_severity(alert.severity),
            )
            await self._alerts.save(updated)
            escalated.append(updated)
            self._telemetry.alert_event("escalated", updated.severity.value)
            for channel in self._escalation_targets(alert):
                self._enqueue(Delivery(channel, updated, escalation=True))
        return escalated

    def _escalation_targets(self, alert: Alert) -> Sequence[AlertChannel]:
        dedicated = [ch for ch in self.policy.channels if ch.escalation or ch.escalation_only]
        return dedicated or [ch for ch in self.policy.channels if ch.name in alert.channels]
