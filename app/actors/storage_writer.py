"""Storage actor: spans in, batched writes to the trace store.

Spans are moved from the channel into a bounded buffer as soon as they arrive, so upstream actors never wait on
the database. Overflow policy: when the buffer is full the *oldest* buffered span is dropped and counted (during
an outage the most recent traffic is the most useful). A failed batch stays at the head of the buffer and is
retried with exponential backoff; the storage circuit breaker stops hammering a dead store. Writes are upserts by
span id, so a retried batch never stores a span twice.
"""

from __future__ import annotations

import collections
import logging

import trio

from domain.circuit import CircuitBreaker
from domain.traces import TraceSpan
from ports.repositories import TraceRepository
from ports.telemetry import Telemetry

log = logging.getLogger("llmtrace.storage")


class StorageWriter:
    def __init__(
        self,
        repository: TraceRepository,
        telemetry: Telemetry,
        breaker: CircuitBreaker,
        *,
        capacity: int,
        batch_size: int,
        flush_interval_s: float,
        initial_backoff_s: float = 0.1,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._repository = repository
        self._telemetry = telemetry
        self.breaker = breaker
        self.capacity = capacity
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.buffer: collections.deque[TraceSpan] = collections.deque()
        self.dropped = 0
        self.written = 0
        self.failed_writes = 0
        self.last_error: str | None = None
        self._closed = False
        self._changed = trio.Event()

    @property
    def depth(self) -> int:
        return len(self.buffer)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def _append(self, span: TraceSpan) -> None:
        self.buffer.append(span)
        overflow = len(self.buffer) - self.capacity
        if overflow > 0:
            for _ in range(overflow):
                self.buffer.popleft()
            self.dropped += overflow
            self._telemetry.storage_spans_dropped(overflow)
        if len(self.buffer) >= self.batch_size or len(self.buffer) == 1:
            self._notify()

    async def run(
        self,
        spans: trio.MemoryReceiveChannel[TraceSpan],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._write_loop)
                task_status.started()
                async with spans:
                    async for span in spans:
                        self._append(span)
                self._closed = True
                self._notify()
        finally:
            if self.buffer:
                lost = len(self.buffer)
                self.dropped += lost
                self._telemetry.storage_spans_dropped(lost)
                log.error("storage: %d buffered spans could not be written before shutdown", lost)
                self.buffer.clear()

    async def _write_loop(self) -> None:
        backoff = self.initial_backoff_s
        while True:
            if not self.buffer:
                if self._closed:
                    return
                await self._changed.wait()
                continue
            if len(self.buffer) < self.batch_size and not self._closed:
                with trio.move_on_after(self.flush_interval_s):
                    while len(self.buffer) < self.batch_size and not self._closed:
                        await self._changed.wait()
            now = trio.current_time()
            if not self.breaker.allow(now):
                self._telemetry.breaker_state("storage", self.breaker.state.value)
                await trio.sleep(min(self.breaker.recovery_timeout_s, self.max_backoff_s))
                continue
            batch = [self.buffer.popleft() for _ in range(min(self.batch_size, len(self.buffer)))]
            try:
                await self._repository.store_spans(batch)
            except Exception as exc:  # noqa: BLE001 - any store failure is retried, never fatal
                self.breaker.on_failure(trio.current_time())
                self._telemetry.breaker_state("storage", self.breaker.state.value)
                self.failed_writes += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                self._telemetry.storage_write(False, len(batch))
                log.warning("storage write of %d spans failed (%s); retrying in %.2fs", len(batch), exc, backoff)
                self.buffer.extendleft(reversed(batch))
                overflow = len(self.buffer) - self.capacity
                if overflow > 0:
                    for _ in range(overflow):
                        self.buffer.popleft()
                    self.dropped += overflow
                    self._telemetry.storage_spans_dropped(overflow)
                await trio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            backoff = self.initial_backoff_s
            self.breaker.on_success()
            self._telemetry.breaker_state("storage", self.breaker.state.value)
            self.written += len(batch)
            self.last_error = None
            self._telemetry.storage_write(True, len(batch))
