"""Spans that arrive already made (OTLP ingest) join the same pipeline: cost, security analysis, alerts, storage."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import trio

from app.actors.capture import PricingHolder
from app.messages import CapturedSpan
from domain.exchange import Usage
from domain.traces import TraceSpan
from ports.telemetry import Telemetry


class SpanIngest:
    """Overflow policy: like proxied exchanges, a full analysis queue drops the newest span and counts it."""

    def __init__(
        self, captured: trio.MemorySendChannel[CapturedSpan], pricing: PricingHolder, telemetry: Telemetry
    ) -> None:
        self._captured = captured
        self._pricing = pricing
        self._telemetry = telemetry

    def submit(self, items: Sequence[tuple[TraceSpan, str]]) -> int:
        accepted = 0
        for span, analysis_text in items:
            table = self._pricing.table
            if table is not None and span.estimated_cost_usd is None:
                usage = Usage(prompt_tokens=span.prompt_tokens, completion_tokens=span.completion_tokens)
                span = attrs.evolve(span, estimated_cost_usd=table.estimate(span.provider, span.model_name, usage))
            try:
                self._captured.send_nowait(CapturedSpan(span, analysis_text))
            except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
                self._telemetry.exchange_dropped("otlp_ingest")
                continue
            self._telemetry.exchange_captured(span)
            accepted += 1
        return accepted
