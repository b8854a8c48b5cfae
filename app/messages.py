"""Envelopes passed between actors, and the non-blocking taps that feed optional actors."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import trio

from domain.findings import SecurityFinding
from domain.traces import TraceSpan


@attrs.frozen
class CapturedSpan:
    """A span built by the capture actor, waiting for security analysis."""

    span: TraceSpan
    analysis_text: str  # request contents without role prefixes
    prior_findings: tuple[SecurityFinding, ...] = ()  # found inline (streaming checks, enforcement)


class SpanTap:
    """The intake of an optional actor (alert engine, OTLP export) fed by the analysis actor, which owns it.

    Overflow policy: drop the newest span when full, counted by ``on_drop``; ``offer`` never blocks, so a slow
    webhook or collector never slows analysis. ``accepts`` filters before anything is queued.
    """

    def __init__(
        self,
        send: trio.MemorySendChannel[TraceSpan],
        *,
        accepts: Callable[[TraceSpan], bool] = lambda span: True,
        on_drop: Callable[[], None] = lambda: None,
    ) -> None:
        self._send = send
        self._accepts = accepts
        self._on_drop = on_drop
        self.dropped = 0

    @classmethod
    def open(
        cls,
        capacity: int,
        *,
        accepts: Callable[[TraceSpan], bool] = lambda span: True,
        on_drop: Callable[[], None] = lambda: None,
    ) -> tuple[SpanTap, trio.MemoryReceiveChannel[TraceSpan]]:
        send, receive = trio.open_memory_channel[TraceSpan](capacity)
        return cls(send, accepts=accepts, on_drop=on_drop), receive

    def offer(self, span: TraceSpan) -> None:
        if not self._accepts(span):
            return
        try:
            self._send.send_nowait(span)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            self.dropped += 1
            self._on_drop()

    def close(self) -> None:
        self._send.close()
