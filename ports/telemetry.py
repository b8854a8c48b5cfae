"""What the application reports about itself; the Prometheus adapter and test fakes implement it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.findings import SecurityFinding
from domain.traces import TraceSpan


class Telemetry(Protocol):
    def exchange_captured(self, span: TraceSpan) -> None:
        """A proxied exchange became a span: request, token, cost and latency counters."""

    def exchange_dropped(self, stage: str) -> None:
        """An exchange or span was dropped at ``stage`` (capture_queue, storage_buffer) because a queue was full."""

    def storage_write(self, ok: bool, spans: int) -> None: ...

    def storage_spans_dropped(self, count: int) -> None: ...

    def breaker_state(self, subsystem: str, state: str) -> None: ...

    def analysis_completed(self, findings: Sequence[SecurityFinding], seconds_per_exchange: float) -> None:
        """Findings by severity and type, and how long the analysis of one exchange took."""

    def alert_event(self, event: str, label: str) -> None:
        """emitted/suppressed/delivered/failed/dropped/escalated, by severity, finding type or channel."""

    def pipeline_failure(self, stage: str) -> None:
        """An actor failed on one item and carried on (fail open)."""

    def anomaly_detected(self, anomaly_type: str) -> None:
        """One anomaly finding (``llmtrace_anomalies_total``)."""

    def analysis_shed(self, exchanges: int) -> None:
        """Exchanges analysed by the rules only because the analysis queue was more than half full."""
