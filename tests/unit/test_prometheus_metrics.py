"""Metrics people can chart: TTFT as a histogram, cost in USD, labels that stay bounded whatever clients send."""

from __future__ import annotations

import datetime as dt

from adapters.metrics.prometheus import MAX_MODELS, PrometheusTelemetry
from domain.providers import Provider
from domain.traces import TraceSpan


def span(model: str, tenant: str = "t", **fields: object) -> TraceSpan:
    return TraceSpan(
        span_id="s",
        trace_id="t",
        tenant_id=tenant,
        operation_name="chat_completion_stream",
        start_time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        provider=Provider.OPENAI,
        model_name=model,
        prompt="p",
        **fields,  # type: ignore[arg-type]
    )


def test_ttft_histogram_and_cost_in_usd() -> None:
    telemetry = PrometheusTelemetry()
    telemetry.exchange_captured(span("gpt-4o-mini", time_to_first_token_ms=250, estimated_cost_usd=0.0000042))
    text = telemetry.render().decode()
    assert 'llmtrace_time_to_first_token_seconds_bucket{le="0.3",model="gpt-4o-mini",provider="openai"} 1.0' in text
    assert 'llmtrace_cost_usd_total{model="gpt-4o-mini",tenant="t"} 4.2e-06' in text  # not rounded away


def test_model_labels_stay_bounded() -> None:
    telemetry = PrometheusTelemetry()
    for i in range(MAX_MODELS + 50):
        telemetry.exchange_captured(span(f"model-{i}", status_code=200))
    text = telemetry.render().decode()
    models = {
        line.split('model="')[1].split('"')[0]
        for line in text.splitlines()
        if line.startswith("llmtrace_requests_total{")
    }
    assert len(models) == MAX_MODELS + 1 and "other" in models
