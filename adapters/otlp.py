"""OTLP/HTTP trace ingest: protobuf and JSON bodies (gzip allowed) to domain spans, GenAI conventions mapped.

Both the current GenAI semantic conventions (``gen_ai.provider.name``, ``gen_ai.usage.input_tokens``,
``gen_ai.input.messages``, message events) and the older ones (``gen_ai.system``, ``gen_ai.prompt``,
``gen_ai.usage.prompt_tokens``) are understood. OTLP/JSON carries ids as hex, while protobuf's JSON mapping expects
base64 for bytes fields (and silently accepts hex, producing wrong ids), so ids are converted before parsing.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import uuid
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from domain.exchange import flatten_messages as _flatten_messages
from domain.json_text import loads
from domain.providers import Provider, provider_from_name
from domain.traces import TraceSpan


class OtlpDecodeError(Exception):
    pass


@attrs.frozen
class IngestedSpan:
    span: TraceSpan
    analysis_text: str


def decompress(body: bytes, encoding: str | None) -> bytes:
    encoding = (encoding or "").lower().strip()
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error) as exc:
        raise OtlpDecodeError(f"body is not valid {encoding}: {exc}") from exc
    if encoding not in ("", "identity"):
        raise OtlpDecodeError(f"unsupported Content-Encoding {encoding!r}")
    return body


def _hex_ids_to_base64(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str) and value:
                try:
                    out[key] = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError:
                    raise OtlpDecodeError(f"{key} {value!r} is not hex") from None
            else:
                out[key] = _hex_ids_to_base64(value)
        return out
    if isinstance(node, list):
        return [_hex_ids_to_base64(v) for v in node]
    return node


def parse_request(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    if "protobuf" in content_type:
        try:
            request.ParseFromString(body)
        except DecodeError as exc:
            raise OtlpDecodeError(f"body is not a valid OTLP protobuf ExportTraceServiceRequest: {exc}") from exc
        return request
    try:
        data = loads(body)
    except ValueError as exc:
        raise OtlpDecodeError(f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise OtlpDecodeError("OTLP/JSON body must be an object")
    try:
        json_format.ParseDict(_hex_ids_to_base64(data), request)
    except json_format.ParseError as exc:
        raise OtlpDecodeError(f"body is not a valid OTLP/JSON ExportTraceServiceRequest: {exc}") from exc
    return request


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return None


def _attributes(items: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in items}


def _uuid(raw: bytes, width: int) -> str | None:
    if not raw:
        return None
    if len(raw) != width:
        raise OtlpDecodeError(f"id of {len(raw)} bytes, expected {width}")
    return str(uuid.UUID(bytes=raw.rjust(16, b"\0")))


def _int(*values: Any) -> int | None:
    for value in values:
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def _messages(value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = loads(value)
        except ValueError:
            return [{"role": "user", "content": value}]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    out = []
    for message in value:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if content is None and isinstance(message.get("parts"), list):  # current conventions: parts
            content = [{"type": "text", "text": p.get("content", "")} for p in message["parts"] if isinstance(p, dict)]
        out.append({"role": message.get("role", "user"), "content": content})
    return out


GENAI_KEYS = (
    "gen_ai.system", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.response.model", "gen_ai.prompt",
    "gen_ai.completion", "gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens", "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens", "gen_ai.input.messages", "gen_ai.output.messages",
)  # fmt: skip


def to_spans(request: ExportTraceServiceRequest, tenant_id: str) -> tuple[list[IngestedSpan], int, list[str]]:
    """Returns (spans, rejected count, reasons)."""
    spans: list[IngestedSpan] = []
    rejected = 0
    reasons: list[str] = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for raw in scope_spans.spans:
                try:
                    spans.append(_span(raw, {**resource, **_attributes(raw.attributes)}, tenant_id))
                except OtlpDecodeError as exc:
                    rejected += 1
                    reasons.append(str(exc))
    return spans, rejected, reasons


def _span(raw: Any, attrs_: Mapping[str, Any], tenant_id: str) -> IngestedSpan:
    trace_id = _uuid(raw.trace_id, 16)
    span_id = _uuid(raw.span_id, 8)
    if trace_id is None or span_id is None:
        raise OtlpDecodeError("span without trace_id or span_id")
    prompt_messages: list[Any] = []
    completion_messages: list[Any] = []
    for event in raw.events:
        data = _attributes(event.attributes)
        if event.name in (
            "gen_ai.system.message",
            "gen_ai.user.message",
            "gen_ai.assistant.message",
            "gen_ai.tool.message",
        ):
            role = event.name.split(".")[1]
            prompt_messages.append({"role": role, "content": data.get("content") or data.get("gen_ai.prompt")})
        elif event.name == "gen_ai.choice":
            message = data.get("message")
            if isinstance(message, str):
                try:
                    message = loads(message)
                except ValueError:
                    message = {"content": message}
            completion_messages.append(
                {
                    "role": "assistant",
                    "content": (message or {}).get("content") if isinstance(message, dict) else data.get("content"),
                }
            )
        elif event.name == "gen_ai.content.prompt":
            prompt_messages.append({"role": "user", "content": data.get("gen_ai.prompt")})
        elif event.name == "gen_ai.content.completion":
            completion_messages.append({"role": "assistant", "content": data.get("gen_ai.completion")})
    if "gen_ai.input.messages" in attrs_:
        prompt_messages = _messages(attrs_["gen_ai.input.messages"]) + prompt_messages
    if "gen_ai.output.messages" in attrs_:
        completion_messages = _messages(attrs_["gen_ai.output.messages"]) + completion_messages
    prompt_text, analysis_text = _flatten_messages(prompt_messages)
    if not prompt_text and isinstance(attrs_.get("gen_ai.prompt"), str):
        prompt_text = analysis_text = attrs_["gen_ai.prompt"]
    _, completion = _flatten_messages(completion_messages)
    if not completion and isinstance(attrs_.get("gen_ai.completion"), str):
        completion = attrs_["gen_ai.completion"]
    provider_name = attrs_.get("gen_ai.provider.name") or attrs_.get("gen_ai.system")
    provider = provider_from_name(str(provider_name)) if provider_name else Provider.CUSTOM
    prompt_tokens = _int(attrs_.get("gen_ai.usage.input_tokens"), attrs_.get("gen_ai.usage.prompt_tokens"))
    completion_tokens = _int(attrs_.get("gen_ai.usage.output_tokens"), attrs_.get("gen_ai.usage.completion_tokens"))
    total = (
        None if prompt_tokens is None and completion_tokens is None else (prompt_tokens or 0) + (completion_tokens or 0)
    )
    start = (
        dt.datetime.fromtimestamp(raw.start_time_unix_nano / 1e9, dt.UTC)
        if raw.start_time_unix_nano
        else dt.datetime.now(dt.UTC)
    )
    end = dt.datetime.fromtimestamp(raw.end_time_unix_nano / 1e9, dt.UTC) if raw.end_time_unix_nano else None
    error = raw.status.code == 2
    tags = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in attrs_.items() if k not in GENAI_KEYS}
    tags["ingest"] = "otlp"
    span = TraceSpan(
        span_id=span_id,
        trace_id=trace_id,
        parent_span_id=_uuid(raw.parent_span_id, 8),
        tenant_id=tenant_id,
        operation_name=raw.name or "otlp_span",
        start_time=start,
        end_time=end,
        provider=provider,
        model_name=str(attrs_.get("gen_ai.request.model") or attrs_.get("gen_ai.response.model") or ""),
        prompt=prompt_text,
        response=completion or None,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=total,
        duration_ms=round((raw.end_time_unix_nano - raw.start_time_unix_nano) / 1e6)
        if raw.end_time_unix_nano and raw.start_time_unix_nano
        else None,
        status_code=500 if error else 200,
        error_message=(raw.status.message or "error") if error else None,
        tags=tags,
    )
    return IngestedSpan(span=span, analysis_text=analysis_text)


def response_body(rejected: int, reasons: list[str], content_type: str) -> tuple[bytes, str]:
    response = ExportTraceServiceResponse()
    if rejected:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = f"{rejected} spans could not be parsed: {'; '.join(reasons[:3])}"
    if "protobuf" in content_type:
        return response.SerializeToString(), "application/x-protobuf"
    return json.dumps(json_format.MessageToDict(response)).encode(), "application/json"
