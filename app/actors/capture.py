"""Capture actor: finished exchanges in, spans out (prompt, response, tokens, TTFT, tool calls, cost)."""

from __future__ import annotations

import gzip
import logging
import zlib

import trio

from app.messages import CapturedSpan
from app.use_cases.access import SpendLedger
from domain.capture import CompletedExchange, analysis_input, build_span
from domain.pricing import PricingTable
from ports.telemetry import Telemetry

log = logging.getLogger("llmtrace.capture")


def decoded_body(exchange: CompletedExchange) -> bytes | None:
    """Undo a content encoding the upstream applied despite ``Accept-Encoding: identity``."""
    body = exchange.response_body
    if body is None or not exchange.content_encoding:
        return None
    encoding = exchange.content_encoding.lower().strip()
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error):
        return None
    return None


class PricingHolder:
    """The current pricing table; replaced as a whole on SIGHUP, so readers never see a half-loaded table."""

    def __init__(self, table: PricingTable | None) -> None:
        self.table = table


async def run_capture(
    exchanges: trio.MemoryReceiveChannel[CompletedExchange],
    spans: trio.MemorySendChannel[CapturedSpan],
    pricing: PricingHolder,
    telemetry: Telemetry,
    *,
    spend: SpendLedger | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Ends when the proxy closes the exchanges channel; then closes ``spans`` so downstream drains in turn."""
    async with exchanges, spans:
        task_status.started()
        async for exchange in exchanges:
            try:
                span = build_span(exchange, pricing.table, decoded_body(exchange))
            except Exception:
                log.exception("could not build a span for trace %s", exchange.trace_id)
                telemetry.pipeline_failure("capture")
                continue
            telemetry.exchange_captured(span)
            if spend is not None and span.estimated_cost_usd:
                try:
                    await spend.add(span.tenant_id, span.estimated_cost_usd, span.start_time)
                except Exception:  # noqa: BLE001 - spend tracking fails open, counted
                    telemetry.pipeline_failure("spend_ledger")
            await spans.send(CapturedSpan(span, analysis_input(exchange), exchange.inline_findings))
