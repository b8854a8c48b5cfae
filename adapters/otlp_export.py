"""Analysed spans sent on to an OTLP/HTTP endpoint, findings attached, so existing trace backends show them.

Each span keeps its trace and span ids and GenAI attributes; the verdict goes into ``llmtrace.security.*`` attributes
and each finding becomes a span event ``llmtrace.security.finding`` (finding type, severity, confidence,
description, location), in the spirit of the GenAI guardrail conventions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from domain.traces import TraceSpan
from ports.alerting import DeliveryError


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def _nanos(span: TraceSpan) -> tuple[int, int]:
    start = int(span.start_time.timestamp() * 1e9)
    end = int(span.end_time.timestamp() * 1e9) if span.end_time else start
    return start, end


def to_otlp(spans: Sequence[TraceSpan], service_name: str = "llmtrace-proxy") -> ExportTraceServiceRequest:
    out = []
    for span in spans:
        start, end = _nanos(span)
        attributes = [
            _kv("gen_ai.provider.name", span.provider.value),
            _kv("gen_ai.request.model", span.model_name),
            _kv("llmtrace.tenant_id", span.tenant_id),
            _kv("llmtrace.security.analysis_status", span.analysis_status.value),
            _kv("llmtrace.security.finding_count", len(span.security_findings)),
            _kv("llmtrace.security.finding_types", ",".join(sorted({f.finding_type for f in span.security_findings}))),
        ]
        if span.security_score is not None:
            attributes.append(_kv("llmtrace.security.score", span.security_score))
        if span.prompt_tokens is not None:
            attributes.append(_kv("gen_ai.usage.input_tokens", span.prompt_tokens))
        if span.completion_tokens is not None:
            attributes.append(_kv("gen_ai.usage.output_tokens", span.completion_tokens))
        events = [
            Span.Event(
                time_unix_nano=end,
                name="llmtrace.security.finding",
                attributes=[
                    _kv("finding_type", f.finding_type),
                    _kv("severity", f.severity.value),
                    _kv("confidence", float(f.confidence)),
                    _kv("description", f.description),
                    _kv("location", f.location or ""),
                ],
            )
            for f in span.security_findings
        ]
        error = span.status_code is not None and span.status_code >= 400
        out.append(
            Span(
                trace_id=uuid.UUID(span.trace_id).bytes,
                span_id=uuid.UUID(span.span_id).bytes[-8:],
                parent_span_id=uuid.UUID(span.parent_span_id).bytes[-8:] if span.parent_span_id else b"",
                name=span.operation_name,
                kind=Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=start,
                end_time_unix_nano=end,
                attributes=attributes,
                events=events,
                status=Status(
                    code=Status.STATUS_CODE_ERROR if error else Status.STATUS_CODE_OK, message=span.error_message or ""
                ),
            )
        )
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=[_kv("service.name", service_name)]),
                scope_spans=[ScopeSpans(scope=InstrumentationScope(name="llmtrace.security"), spans=out)],
            )
        ]
    )


class OtlpHttpExporter:
    def __init__(self, client: httpx.AsyncClient, endpoint: str, headers: Mapping[str, str], timeout_s: float) -> None:
        self._client = client
        self._endpoint = endpoint
        self._headers = {**headers, "content-type": "application/x-protobuf"}
        self._timeout = timeout_s

    async def export(self, spans: Sequence[TraceSpan]) -> None:
        body = to_otlp(spans).SerializeToString()
        try:
            response = await self._client.post(
                self._endpoint, content=body, headers=self._headers, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"OTLP export: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(f"OTLP export: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise DeliveryError(f"OTLP export: HTTP {response.status_code}", transient=False)
