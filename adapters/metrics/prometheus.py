"""Prometheus metrics on a private registry (reference section 10), plus queue depths and drop counts.

Label values that come from traffic are bounded, so a client cannot grow the metric set without end: at most
``MAX_MODELS`` model names and ``MAX_TENANTS`` tenants get their own series; later ones are counted under
``other``. Cost is a counter in USD (the reference counted rounded micro-dollars, which lost cheap calls).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from domain.findings import SecurityFinding
from domain.traces import TraceSpan

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

BREAKER_STATES = ("closed", "open", "half_open")
MAX_MODELS = 200
MAX_TENANTS = 100
OTHER = "other"


class BoundedLabel:
    """The first ``limit`` distinct values pass as they are; any value after that is ``other``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self.seen:
            return value
        if len(self.seen) >= self.limit:
            return OTHER
        self.seen.add(value)
        return value


class _CallbackGauges(Collector):
    def __init__(self) -> None:
        self.sources: dict[str, tuple[str, Callable[[], float]]] = {}

    def collect(self):  # type: ignore[no-untyped-def]
        for name, (doc, fn) in self.sources.items():
            family = GaugeMetricFamily(name, doc)
            family.add_metric([], float(fn()))
            yield family


class PrometheusTelemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "llmtrace_requests_total", "Proxied requests", ["provider", "model", "status_code"], registry=r
        )
        self.duration = Histogram(
            "llmtrace_request_duration_seconds",
            "Upstream exchange duration",
            ["provider", "model"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.tokens = Counter(
            "llmtrace_tokens_total", "Tokens by direction", ["direction", "provider", "model"], registry=r
        )
        self.findings = Counter(
            "llmtrace_security_findings_total", "Security findings", ["severity", "finding_type"], registry=r
        )
        self.breaker = Gauge(
            "llmtrace_circuit_breaker_state", "1 for the active state", ["subsystem", "state"], registry=r
        )
        self.storage_ops = Counter(
            "llmtrace_storage_operations_total", "Storage batch writes", ["operation", "status"], registry=r
        )
        self.cost = Counter("llmtrace_cost_usd_total", "Estimated cost in USD", ["tenant", "model"], registry=r)
        self.ttft = Histogram(
            "llmtrace_time_to_first_token_seconds",
            "Time to the first streamed token",
            ["provider", "model"],
            buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10),
            registry=r,
        )
        self._model = BoundedLabel(MAX_MODELS)
        self._tenant = BoundedLabel(MAX_TENANTS)
        self.anomalies = Counter(
            "llmtrace_anomalies_total", "Anomalies found (anomaly_detection.*)", ["anomaly_type"], registry=r
        )
        self.detector_latency = Histogram(
            "llmtrace_security_detector_latency_seconds",
            "Security analysis latency",
            ["detector"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=r,
        )
        self.active = Gauge("llmtrace_active_connections", "Proxied requests in flight", registry=r)
        self.dropped = Counter(
            "llmtrace_pipeline_dropped_total",
            "Exchanges or spans dropped because a queue was full",
            ["stage"],
            registry=r,
        )
        self.stored_spans = Counter("llmtrace_storage_spans_written_total", "Spans written to storage", registry=r)
        self.analysis_shed_total = Counter(
            "llmtrace_analysis_shed_total",
            "Exchanges analysed by the rules only (models skipped) because the analysis queue was more than half full",
            registry=r,
        )
        self.pipeline_failures = Counter(
            "llmtrace_pipeline_failures_total",
            "Items an actor failed on and skipped (fail open)",
            ["stage"],
            registry=r,
        )
        self.alerts = Counter(
            "llmtrace_alerts_total",
            "Alert engine events (emitted, suppressed, delivered, failed, dropped, escalated)",
            ["event", "label"],
            registry=r,
        )
        self.detector_name = "regex"
        self._callbacks = _CallbackGauges()
        r.register(self._callbacks)
        for subsystem in ("storage", "security"):
            self.breaker_state(subsystem, "closed")

    def gauge_from(self, name: str, doc: str, fn: Callable[[], float]) -> None:
        """Expose a value read at scrape time (queue depths)."""
        self._callbacks.sources[name] = (doc, fn)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    # Telemetry port -------------------------------------------------------------------------------------------
    def exchange_captured(self, span: TraceSpan) -> None:
        provider = span.provider.value
        model = self._model(span.model_name or "unknown")
        self.requests.labels(provider, model, str(span.status_code or 0)).inc()
        if span.duration_ms is not None:
            self.duration.labels(provider, model).observe(span.duration_ms / 1000)
        if span.prompt_tokens:
            self.tokens.labels("prompt", provider, model).inc(span.prompt_tokens)
        if span.completion_tokens:
            self.tokens.labels("completion", provider, model).inc(span.completion_tokens)
        if span.time_to_first_token_ms is not None:
            self.ttft.labels(provider, model).observe(span.time_to_first_token_ms / 1000)
        if span.estimated_cost_usd:
            self.cost.labels(self._tenant(span.tenant_id), model).inc(span.estimated_cost_usd)

    def exchange_dropped(self, stage: str) -> None:
        self.dropped.labels(stage).inc()

    def storage_write(self, ok: bool, spans: int) -> None:
        self.storage_ops.labels("store_spans", "success" if ok else "error").inc()
        if ok:
            self.stored_spans.inc(spans)

    def storage_spans_dropped(self, count: int) -> None:
        self.dropped.labels("storage_buffer").inc(count)

    def breaker_state(self, subsystem: str, state: str) -> None:
        for name in BREAKER_STATES:
            self.breaker.labels(subsystem, name).set(1 if name == state else 0)

    def analysis_completed(self, findings: Sequence[SecurityFinding], seconds_per_exchange: float) -> None:
        for finding in findings:
            self.findings.labels(finding.severity.value, finding.finding_type).inc()
        self.detector_latency.labels(self.detector_name).observe(seconds_per_exchange)

    def alert_event(self, event: str, label: str) -> None:
        self.alerts.labels(event, label).inc()

    def pipeline_failure(self, stage: str) -> None:
        self.pipeline_failures.labels(stage).inc()

    def anomaly_detected(self, anomaly_type: str) -> None:
        self.anomalies.labels(anomaly_type).inc()

    def analysis_shed(self, exchanges: int) -> None:
        self.analysis_shed_total.inc(exchanges)

    def active_connections(self, delta: int) -> None:
        self.active.inc(delta)
