"""Export actor: analysed spans, with their findings, to an OTLP endpoint (``otel_export.*``).

Intake: a tap owned by the analysis actor (``intake()``); offering never blocks (cap 1024, drop newest when full,
counted); spans leave in batches of up to 64 or every second, with retries and backoff (tenacity). A dead endpoint
never slows analysis or proxying.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import tenacity
import trio

from app.messages import SpanTap
from domain.traces import TraceSpan
from ports.alerting import DeliveryError
from ports.telemetry import Telemetry

log = logging.getLogger("llmtrace.export")


class SpanExporter(Protocol):
    async def export(self, spans: Sequence[TraceSpan]) -> None: ...


class ExportActor:
    def __init__(
        self,
        exporter: SpanExporter,
        telemetry: Telemetry,
        *,
        batch_size: int = 64,
        flush_interval_s: float = 1.0,
        capacity: int = 1024,
    ) -> None:
        self._exporter = exporter
        self._telemetry = telemetry
        self._batch_size = batch_size
        self._flush = flush_interval_s
        self._capacity = capacity
        self.exported = 0
        self.failed = 0

    def intake(self, *, only_with_findings: bool = True) -> tuple[SpanTap, trio.MemoryReceiveChannel[TraceSpan]]:
        """The tap the analysis actor offers analysed spans to (it owns and closes it), and the end ``run`` reads."""
        return SpanTap.open(
            self._capacity,
            accepts=(lambda span: bool(span.security_findings)) if only_with_findings else (lambda span: True),
            on_drop=lambda: self._telemetry.exchange_dropped("otel_export"),
        )

    async def run(
        self,
        spans: trio.MemoryReceiveChannel[TraceSpan],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        task_status.started()
        async with spans:
            while True:
                try:
                    first = await spans.receive()
                except trio.EndOfChannel:
                    return
                batch = [first]
                with trio.move_on_after(self._flush):
                    while len(batch) < self._batch_size:
                        try:
                            batch.append(await spans.receive())
                        except trio.EndOfChannel:
                            break
                await self._export(batch)

    async def _export(self, batch: list[TraceSpan]) -> None:
        try:
            async for attempt in tenacity.AsyncRetrying(
                stop=tenacity.stop_after_attempt(4),
                wait=tenacity.wait_exponential(multiplier=0.2, max=5),
                retry=tenacity.retry_if_exception(lambda e: isinstance(e, DeliveryError) and e.transient),
                sleep=trio.sleep,
                reraise=True,
            ):
                with attempt:
                    await self._exporter.export(batch)
            self.exported += len(batch)
        except Exception as exc:  # noqa: BLE001 - counted, logged, never raised into the pipeline
            self.failed += len(batch)
            log.warning("OTLP export of %d spans failed: %s", len(batch), exc)
            self._telemetry.pipeline_failure("otel_export")
