"""Post-hoc analysis actor, between capture and storage: a trio shell over ``PostHocAnalysis``.

It takes the captured spans waiting in its channel in batches (up to 32), sheds the models when the queue is more
than half full (the rules still run; better every exchange analysed by rules than many not analysed at all), has the
anomaly watch judge each span against its baselines (when on), sends each analysed span to storage (backpressure)
and offers it to its taps (alert engine, OTLP export; never blocking). It owns its output channels: when its input
ends it closes storage's channel and every tap, so the actors downstream drain in turn.
"""

from __future__ import annotations

from collections.abc import Sequence

import trio

from app.holders import AnalysisStats
from app.messages import CapturedSpan, SpanTap
from app.use_cases.anomaly_watch import AnomalyWatch
from app.use_cases.post_hoc_analysis import PostHocAnalysis
from domain.traces import TraceSpan
from ports.telemetry import Telemetry

MAX_BATCH = 32


async def run_analysis(
    captured: trio.MemoryReceiveChannel[CapturedSpan],
    spans: trio.MemorySendChannel[TraceSpan],
    analysis: PostHocAnalysis,
    telemetry: Telemetry,
    *,
    taps: Sequence[SpanTap] = (),
    watch: AnomalyWatch | None = None,
    stats: AnalysisStats | None = None,
    ready: trio.Event | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """``ready``: wait for it before the first batch (preloaded models), so the first exchanges get the ensemble."""
    stats = stats or AnalysisStats()
    try:
        async with captured, spans:
            task_status.started()
            if ready is not None:
                await ready.wait()
            async for first in captured:
                batch = [first]
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(captured.receive_nowait())
                    except (trio.WouldBlock, trio.EndOfChannel):  # nothing more waiting, or closed and drained
                        break
                queue = captured.statistics()
                fast = queue.current_buffer_used * 2 > queue.max_buffer_size
                if fast and analysis.enabled:
                    stats.shed += len(batch)
                    telemetry.analysis_shed(len(batch))
                for span in await analysis.analyse(batch, fast=fast):
                    if watch is not None:
                        span = await watch.inspect(span)
                    for tap in taps:
                        tap.offer(span)
                    await spans.send(span)
    finally:
        for tap in taps:
            tap.close()
