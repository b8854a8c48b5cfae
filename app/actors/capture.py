"""Capture actor: finished exchanges in, spans out; a trio shell over ``ExchangeCapture``.

It takes the exchanges waiting in its channel in batches (up to 64) and captures each batch in a worker thread, so a
large body never stalls the event loop that forwards everyone else's requests. It owns the channel to analysis and
closes it when its input ends, so the actors downstream drain in turn.
"""

from __future__ import annotations

import trio

from app.messages import CapturedSpan
from app.use_cases.capture import ExchangeCapture
from domain.capture import CompletedExchange

MAX_BATCH = 64


async def run_capture(
    exchanges: trio.MemoryReceiveChannel[CompletedExchange],
    spans: trio.MemorySendChannel[CapturedSpan],
    capture: ExchangeCapture,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Ends when the proxy closes the exchanges channel; then closes ``spans``."""
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
            captured = await trio.to_thread.run_sync(capture.capture, batch, limiter=limiter)
            for exchange, result, secrets in captured:
                await spans.send(await capture.finish(exchange, result, secrets))
