"""Capture actor: finished exchanges in, spans out (prompt, response, tokens, TTFT, tool calls, cost).

Parsing runs in a worker thread, a batch of waiting exchanges at a time, so a large body never stalls the event
loop that forwards everyone else's requests. An exchange that cannot be understood is still captured raw (and
analysed as raw text) and counted as a capture failure: nothing a client sends can keep it out of the trace.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from functools import partial

import trio

from app.holders import PricingHolder
from app.messages import CapturedSpan
from app.use_cases.access import SpendLedger
from domain.capture import MAX_DECODED_BYTES, Capture, CompletedExchange, capture_exchange
from domain.findings import SecurityFinding
from domain.pricing import PricingTable
from domain.protection import locate_secrets
from ports.telemetry import Telemetry

log = logging.getLogger("llmtrace.capture")

MAX_BATCH = 64


def _capture_all(
    batch: list[CompletedExchange], pricing: PricingTable | None, max_decoded_bytes: int
) -> list[tuple[CompletedExchange, Capture, tuple[SecurityFinding, ...]]]:
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
        out.append((exchange, capture_exchange(exchange, pricing, max_decoded_bytes), found))
    return out


async def run_capture(
    exchanges: trio.MemoryReceiveChannel[CompletedExchange],
    spans: trio.MemorySendChannel[CapturedSpan],
    pricing: PricingHolder,
    telemetry: Telemetry,
    *,
    spend: SpendLedger | None = None,
    max_decoded_bytes: int = MAX_DECODED_BYTES,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Ends when the proxy closes the exchanges channel; then closes ``spans`` so downstream drains in turn."""
    limiter = trio.CapacityLimiter(1)
    async with exchanges, spans:
        task_status.started()
        async for first in exchanges:
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(exchanges.receive_nowait())
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
            captured = await trio.to_thread.run_sync(
                partial(_capture_all, batch, pricing.table, max_decoded_bytes), limiter=limiter
            )
            for exchange, capture, secrets in captured:
                span = capture.span
                if capture.failure is not None:
                    log.warning("trace %s captured raw: %s", span.trace_id, capture.failure)
                    telemetry.pipeline_failure("capture")
                telemetry.exchange_captured(span)
                if spend is not None and span.estimated_cost_usd:
                    try:
                        await spend.add(span.tenant_id, span.estimated_cost_usd, span.start_time, span.agent_id)
                    except Exception:  # noqa: BLE001 - spend tracking fails open, counted
                        telemetry.pipeline_failure("spend_ledger")
                await spans.send(CapturedSpan(span, capture.analysis_text, (*exchange.inline_findings, *secrets)))
