"""Capturing exchanges: what the capture actor does with each batch (parse, price, locate secrets, record spend).

An exchange that cannot be understood is still captured raw (and analysed as raw text) and counted as a capture
failure: nothing a client sends can keep it out of the trace. Spend tracking fails open (counted).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence

from app.holders import PricingHolder
from app.messages import CapturedSpan
from app.use_cases.access import SpendLedger
from domain.capture import MAX_DECODED_BYTES, Capture, CompletedExchange, capture_exchange
from domain.findings import SecurityFinding
from domain.protection import locate_secrets
from ports.telemetry import Telemetry

log = logging.getLogger("llmtrace.capture")


class ExchangeCapture:
    def __init__(
        self,
        pricing: PricingHolder,
        telemetry: Telemetry,
        *,
        spend: SpendLedger | None = None,
        max_decoded_bytes: int = MAX_DECODED_BYTES,
    ) -> None:
        self._pricing = pricing
        self._telemetry = telemetry
        self._spend = spend
        self._max_decoded_bytes = max_decoded_bytes

    def capture(
        self, batch: Sequence[CompletedExchange]
    ) -> list[tuple[CompletedExchange, Capture, tuple[SecurityFinding, ...]]]:
        """Synchronous and CPU-bound (parsing, decompression): the actor runs it in a worker thread."""
        table = self._pricing.table  # one table for the whole batch, even if SIGHUP replaces it meanwhile
        out = []
        for exchange in batch:
            found: tuple[SecurityFinding, ...] = ()
            if exchange.request_body and "data_protection" not in exchange.tags:
                # Unprotected: say where any secret sat (message, role, field) on the trace; the protector did it
                # already for protected requests.
                now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
                try:
                    found = tuple(locate_secrets(exchange.request_body, now, uuid.uuid4))
                except Exception:  # never let one body stop the actor; the analysis still reads it
                    log.exception("locating secrets failed for trace %s", exchange.trace_id)
            out.append((exchange, capture_exchange(exchange, table, self._max_decoded_bytes), found))
        return out

    async def finish(
        self, exchange: CompletedExchange, capture: Capture, secrets: tuple[SecurityFinding, ...]
    ) -> CapturedSpan:
        """Count it, record its spend, and make the envelope for analysis (inline findings carried along)."""
        span = capture.span
        if capture.failure is not None:
            log.warning("trace %s captured raw: %s", span.trace_id, capture.failure)
            self._telemetry.pipeline_failure("capture")
        self._telemetry.exchange_captured(span)
        if self._spend is not None and span.estimated_cost_usd:
            try:
                await self._spend.add(span.tenant_id, span.estimated_cost_usd, span.start_time, span.agent_id)
            except Exception:  # noqa: BLE001 - spend tracking fails open, counted
                self._telemetry.pipeline_failure("spend_ledger")
        return CapturedSpan(span, capture.analysis_text, (*exchange.inline_findings, *secrets))
