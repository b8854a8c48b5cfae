"""Storage actor: spans in, batched writes to the trace store.

Spans are moved from the channel into a bounded buffer as soon as they arrive, so upstream actors never wait on
the database. Overflow policy: when the buffer is full the *oldest* buffered span is dropped and counted (during
an outage the most recent traffic is the most useful). Writes are upserts by span id, so a retried batch never
stores a span twice.

A failed batch is one of two things, told apart by asking the store whether it is up:

- **an outage** (the store does not answer): the batch stays at the head of the buffer and is retried with
  exponential backoff; the storage circuit breaker stops hammering a dead store.
- **a poison span** (the store answers but refused the batch): the batch is written one span at a time; a span the
  store refuses is *quarantined*: stored with its text cleaned, or failing that without its free text, tagged
  ``quarantined`` and counted. It is never retried forever, so it can never block the traces of anyone else.

At shutdown, spans still unwritten are spilled to a local file (``storage.spill_path``) and written at the next
start, before new traffic.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Sequence

import trio

from domain.circuit import CircuitBreaker
from domain.traces import TraceSpan, quarantined
from ports.repositories import SpanSpill, TraceRepository
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
        spill: SpanSpill | None = None,
        probe_timeout_s: float = 2.0,
    ) -> None:
        self._repository = repository
        self._telemetry = telemetry
        self.breaker = breaker
        self.capacity = capacity
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self._spill = spill
        self._probe_timeout_s = probe_timeout_s
        self.buffer: collections.deque[TraceSpan] = collections.deque()
        self.dropped = 0
        self.written = 0
        self.failed_writes = 0
        self.quarantined = 0
        self.spilled = 0
        self.restored = 0
        self.last_error: str | None = None
        self.failing_since: float | None = None  # trio clock of the first failed write of the current streak
        self.last_drop_at: float | None = None
        self._closed = False
        self._changed = trio.Event()
        self._in_flight: list[TraceSpan] = []  # the batch being written: spilled too if shutdown cuts the write

    @property
    def depth(self) -> int:
        return len(self.buffer)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def _drop_overflow(self) -> None:
        overflow = len(self.buffer) - self.capacity
        if overflow > 0:
            for _ in range(overflow):
                self.buffer.popleft()
            self.dropped += overflow
            self.last_drop_at = trio.current_time()
            self._telemetry.storage_spans_dropped(overflow)

    def _append(self, span: TraceSpan) -> None:
        self.buffer.append(span)
        self._drop_overflow()
        if len(self.buffer) >= self.batch_size or len(self.buffer) == 1:
            self._notify()

    def restore_spilled(self) -> int:
        """Queue the spans a previous run spilled (called before traffic starts)."""
        if self._spill is None:
            return 0
        try:
            spans = self._spill.take()
        except OSError as exc:
            log.error("could not read the spill file: %s", exc)
            return 0
        for span in spans:
            self._append(span)
        self.restored += len(spans)
        if spans:
            log.info("storage: %d spans spilled at the last shutdown are queued for writing", len(spans))
        return len(spans)

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
            if self.buffer or self._in_flight:
                self._spill_remaining()

    def _spill_remaining(self) -> None:
        remaining = [*self._in_flight, *self.buffer]  # a cut write may have landed: upserts keep one copy
        self._in_flight = []
        self.buffer.clear()
        if self._spill is not None:
            try:
                self._spill.save(remaining)
            except OSError as exc:
                log.error("storage: %d unwritten spans could not be spilled: %s", len(remaining), exc)
            else:
                self.spilled += len(remaining)
                log.warning("storage: %d unwritten spans spilled; they are written at the next start", len(remaining))
                return
        self.dropped += len(remaining)
        self._telemetry.storage_spans_dropped(len(remaining))
        log.error("storage: %d buffered spans could not be written before shutdown", len(remaining))

    async def _store_answers(self) -> bool:
        with trio.move_on_after(self._probe_timeout_s):
            try:
                await self._repository.health_check()
            except Exception:  # noqa: BLE001 - any failure means the store is not up
                return False
            return True
        return False

    def _succeeded(self, count: int) -> None:
        self.breaker.on_success()
        self._telemetry.breaker_state("storage", self.breaker.state.value)
        self.written += count
        self.last_error = None
        self.failing_since = None
        self._telemetry.storage_write(True, count)

    def _failed(self, exc: Exception, count: int) -> None:
        self.failed_writes += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        if self.failing_since is None:
            self.failing_since = trio.current_time()
        self._telemetry.storage_write(False, count)

    async def _write_each(self, batch: Sequence[TraceSpan]) -> list[TraceSpan]:
        """Write spans one by one, quarantining those the store refuses; returns the spans left unwritten
        because the store stopped answering meanwhile."""
        for index, span in enumerate(batch):
            try:
                await self._repository.store_spans([span])
                self._succeeded(1)
                continue
            except Exception as exc:  # noqa: BLE001
                reason = f"{type(exc).__name__}: {exc}"
            for strip in (False, True):
                try:
                    await self._repository.store_spans([quarantined(span, reason, strip=strip)])
                except Exception:  # noqa: BLE001
                    continue
                self.quarantined += 1
                self._telemetry.pipeline_failure("storage_quarantine")
                self._succeeded(1)
                log.error("storage: span %s quarantined (%s)", span.span_id, reason)
                break
            else:
                if not await self._store_answers():
                    return list(batch[index:])
                self.dropped += 1
                self.last_drop_at = trio.current_time()
                self._telemetry.storage_spans_dropped(1)
                log.error("storage: span %s could not be stored even stripped (%s); dropped", span.span_id, reason)
        return []

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
            self._in_flight = batch
            try:
                await self._repository.store_spans(batch)
            except Exception as exc:  # noqa: BLE001 - a failed write is retried or quarantined, never fatal
                self._failed(exc, len(batch))
                if await self._store_answers():
                    # The store is up but refused the batch: find the span it cannot take.
                    unwritten = await self._write_each(batch)
                    self._in_flight = []
                    if not unwritten:
                        backoff = self.initial_backoff_s
                        continue
                    batch = unwritten
                self.breaker.on_failure(trio.current_time())
                self._telemetry.breaker_state("storage", self.breaker.state.value)
                log.warning("storage write of %d spans failed (%s); retrying in %.2fs", len(batch), exc, backoff)
                self.buffer.extendleft(reversed(batch))
                self._in_flight = []
                self._drop_overflow()
                await trio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            self._in_flight = []
            backoff = self.initial_backoff_s
            self._succeeded(len(batch))
