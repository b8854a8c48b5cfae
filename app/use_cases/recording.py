"""The driving port the proxy calls on every exchange: a non-blocking hand-off to the capture actor."""

from __future__ import annotations

import trio

from domain.capture import CompletedExchange
from ports.telemetry import Telemetry


class ChannelExchangeRecorder:
    """Overflow policy: drop the newest exchange when the capture queue is full, and count it.

    The proxied request has already been answered; it never waits for capture.
    """

    def __init__(self, send: trio.MemorySendChannel[CompletedExchange], telemetry: Telemetry) -> None:
        self._send = send
        self._telemetry = telemetry
        self.dropped = 0

    def record(self, exchange: CompletedExchange) -> bool:
        try:
            self._send.send_nowait(exchange)
        except trio.WouldBlock:
            self.dropped += 1
            self._telemetry.exchange_dropped("capture_queue")
            return False
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            self.dropped += 1
            self._telemetry.exchange_dropped("capture_closed")
            return False
        return True
