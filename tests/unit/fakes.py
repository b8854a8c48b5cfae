"""In-memory fakes with observable state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from domain.findings import SecurityFinding
from domain.traces import TraceSpan


class RecordingTelemetry:
    def __init__(self) -> None:
        self.captured: list[TraceSpan] = []
        self.dropped: Counter[str] = Counter()
        self.writes: list[tuple[bool, int]] = []
        self.storage_dropped = 0
        self.breaker_states: list[tuple[str, str]] = []
        self.failures: Counter[str] = Counter()
        self.analysed_findings: list[SecurityFinding] = []
        self.alert_events: Counter[tuple[str, str]] = Counter()
        self.shed = 0
        self.anomalies: Counter[str] = Counter()

    def exchange_captured(self, span: TraceSpan) -> None:
        self.captured.append(span)

    def exchange_dropped(self, stage: str) -> None:
        self.dropped[stage] += 1

    def storage_write(self, ok: bool, spans: int) -> None:
        self.writes.append((ok, spans))

    def storage_spans_dropped(self, count: int) -> None:
        self.storage_dropped += count

    def breaker_state(self, subsystem: str, state: str) -> None:
        self.breaker_states.append((subsystem, state))

    def analysis_completed(self, findings: Sequence[SecurityFinding], seconds_per_exchange: float) -> None:
        self.analysed_findings.extend(findings)

    def alert_event(self, event: str, label: str) -> None:
        self.alert_events[(event, label)] += 1

    def pipeline_failure(self, stage: str) -> None:
        self.failures[stage] += 1

    def anomaly_detected(self, anomaly_type: str) -> None:
        self.anomalies[anomaly_type] += 1

    def analysis_shed(self, exchanges: int) -> None:
        self.shed += exchanges


class MemorySpill:
    """The spill port in memory: what was saved is observable, and ``take`` empties it."""

    def __init__(self) -> None:
        self.saved: list[TraceSpan] = []

    def save(self, spans: Sequence[TraceSpan]) -> None:
        self.saved.extend(spans)

    def take(self) -> list[TraceSpan]:
        taken, self.saved = self.saved, []
        return taken
