"""Spans that arrive already made (OTLP ingest) join the same pipeline: cost, security analysis, alerts, storage."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import trio

from app.holders import PricingHolder
from app.messages import CapturedSpan
from domain.exchange import Usage
from domain.traces import TraceSpan
from ports.telemetry import Telemetry


class SpanIngest:
    """Overflow policy: backpressure. Ingest is not on a proxied request's path, so a full analysis queue makes the
    OTLP client wait (up to ``wait_s`` per batch); only then is the rest rejected as a partial success and counted."""

    def __init__(
        self,
        captured: trio.MemorySendChannel[CapturedSpan],
        pricing: PricingHolder,
        telemetry: Telemetry,
        wait_s: float = 10.0,
    ) -> None:
        self._captured = captured
        self._wait_s = wait_s
        self._pricing = pricing
        self._telemetry = telemetry

    async def submit(self, items: Sequence[tuple[TraceSpan, str]]) -> int:
        accepted = 0
        deadline = trio.current_time() + self._wait_s
        for span, analysis_text in items:
            table = self._pricing.table
            if table is not None and span.estimated_cost_usd is None:
                usage = Usage(prompt_tokens=span.prompt_tokens, completion_tokens=span.completion_tokens)
                span = attrs.evolve(span, estimated_cost_usd=table.estimate(span.provider, span.model_name, usage))
            sent = False
            with trio.move_on_at(deadline):
                try:
                    await self._captured.send(CapturedSpan(span, analysis_text))
                    sent = True
                except (trio.ClosedResourceError, trio.BrokenResourceError):
                    pass
            if not sent:
                self._telemetry.exchange_dropped("otlp_ingest")
                continue
            self._telemetry.exchange_captured(span)
            accepted += 1
        return accepted
