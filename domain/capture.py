"""From a finished exchange to a trace span (pure; the capture actor calls this off the response path)."""

from __future__ import annotations

import datetime as dt
import uuid
import zlib
from collections.abc import Mapping

import attrs

from domain.exchange import (
    RequestSummary,
    ResponseSummary,
    StreamAccumulator,
    ToolCall,
    Usage,
    estimate_tokens,
    summarize_request,
    summarize_response,
)
from domain.findings import SecurityFinding
from domain.json_text import clean_text
from domain.pricing import PricingTable
from domain.providers import Provider
from domain.traces import ActionType, AgentAction, TraceSpan, truncate_utf8

DEFAULT_TENANT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "llmtrace:default-tenant"))


def resolve_tenant(tenant_header: str | None, authorization: str | None) -> str:
    """Auth off: ``X-LLMTrace-Tenant-ID`` (a UUID), else UUIDv5(NAMESPACE_URL, bearer token), else one fixed tenant."""
    if tenant_header:
        try:
            return str(uuid.UUID(tenant_header.strip()))
        except ValueError:
            pass
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return str(uuid.uuid5(uuid.NAMESPACE_URL, token.strip()))
    return DEFAULT_TENANT_ID


@attrs.frozen(kw_only=True)
class CompletedExchange:
    """Everything the proxy saw of one exchange; built on the response path without parsing anything."""

    trace_id: str
    span_id: str
    tenant_id: str
    agent_id: str | None
    provider: Provider
    method: str
    path: str
    request_body: bytes
    started_at: dt.datetime
    status_code: int | None
    response_body: bytes | None  # whole body of a non-streaming response
    stream_chunks: tuple[tuple[float, bytes], ...] | None  # SSE chunks with their arrival (ms after start)
    duration_ms: int
    error_message: str | None = None
    content_encoding: str | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict)
    inline_findings: tuple[SecurityFinding, ...] = ()  # from enforcement and streaming checks
    request_summary: RequestSummary | None = None  # the body as already read on the request path, if it was
    end_user: str | None = None  # the X-LLMTrace-User-ID header
    credential: str | None = None  # display prefix of the credential that made the call (from the gate)


def agent_actions_from_tool_calls(calls: tuple[ToolCall, ...], at: dt.datetime) -> tuple[AgentAction, ...]:
    actions = []
    for call in calls:
        metadata = {"tool_type": call.tool_type}
        if call.call_id:
            metadata["tool_call_id"] = call.call_id
        if call.legacy_function_call:
            metadata["legacy_function_call"] = "true"
        actions.append(
            AgentAction(
                id=str(uuid.uuid4()),
                action_type=ActionType.TOOL_CALL,
                name=call.name,
                arguments=truncate_utf8(call.arguments) if call.arguments else None,
                timestamp=at,
                metadata=metadata,
            )
        )
    return tuple(actions)


def replay_stream(chunks: tuple[tuple[float, bytes], ...]) -> tuple[ResponseSummary, int | None]:
    """Parse the SSE chunks of a stream; time to first token = arrival of the first chunk carrying content."""
    accumulator = StreamAccumulator()
    first_token_ms: float | None = None
    for arrived_ms, chunk in chunks:
        if accumulator.feed(chunk) and first_token_ms is None:
            first_token_ms = arrived_ms
    if accumulator.finish() and first_token_ms is None and chunks:
        first_token_ms = chunks[-1][0]
    return accumulator.summary(), None if first_token_ms is None else round(first_token_ms)


def _summarize(exchange: CompletedExchange, body: bytes | None) -> tuple[ResponseSummary, int | None]:
    if exchange.stream_chunks is not None:
        return replay_stream(exchange.stream_chunks)
    if body is None:
        return ResponseSummary(text="", usage=Usage()), None
    return summarize_response(exchange.provider, body), None


def build_span(
    exchange: CompletedExchange,
    pricing: PricingTable | None,
    body: bytes | None = None,
    request: RequestSummary | None = None,
) -> TraceSpan:
    """``body`` is the decoded response body when the raw one was compressed; ``request`` the parsed request."""
    request = request or summarize_request(exchange.path, exchange.request_body)
    response, first_token_ms = _summarize(exchange, body if body is not None else exchange.response_body)
    usage = response.usage
    estimated = False
    prompt_tokens, completion_tokens, total_tokens = usage.prompt_tokens, usage.completion_tokens, usage.total_tokens
    is_stream = exchange.stream_chunks is not None
    if prompt_tokens is None and completion_tokens is None and (exchange.status_code or 0) < 400:
        estimated = True
        prompt_tokens = estimate_tokens(request.analysis_text)
        completion_tokens = response.delta_count if is_stream else estimate_tokens(response.text)
        total_tokens = prompt_tokens + completion_tokens
        usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, total_tokens=total_tokens)
    operation = request.operation_name
    if is_stream and not operation.endswith("_stream") and operation not in ("embedding", "proxy_request"):
        operation += "_stream"
    model = request.model or response.model or ""
    end_time = exchange.started_at + dt.timedelta(milliseconds=exchange.duration_ms)
    error = exchange.error_message or response.error_message
    if error is None and exchange.status_code is not None and exchange.status_code >= 400:
        error = f"upstream returned HTTP {exchange.status_code}"
    cost = pricing.estimate(exchange.provider, model, usage) if pricing is not None else None
    tags = dict(exchange.tags)
    if not request.parsed and exchange.request_body:
        tags.setdefault("request_parse", "unparsed")
    if request.pruned:
        tags["request_parse"] = "pruned: JSON nested deeper than the capture limit was dropped"
    return TraceSpan(
        span_id=exchange.span_id,
        trace_id=exchange.trace_id,
        tenant_id=exchange.tenant_id,
        operation_name=operation,
        start_time=exchange.started_at,
        end_time=end_time,
        provider=exchange.provider,
        model_name=model,
        prompt=request.prompt_text,
        response=response.text,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=total_tokens,
        tokens_estimated=estimated,
        time_to_first_token_ms=first_token_ms,
        duration_ms=exchange.duration_ms,
        status_code=exchange.status_code,
        error_message=error,
        estimated_cost_usd=cost,
        tags=tags,
        agent_actions=agent_actions_from_tool_calls(response.tool_calls, end_time),
        agent_id=exchange.agent_id,
        end_user_id=exchange.end_user or request.end_user,
        request_metadata=request.metadata,
        credential=exchange.credential,
        cached_prompt_tokens=response.usage.cached_prompt_tokens if response.usage.prompt_tokens is not None else None,
    )


MAX_DECODED_BYTES = 1_048_576
# The security analysis reads at most this much of a prompt or a response: the beginning and the end, where
# instructions and answers sit. Regex and model cost grow with length; 10 MB of text would cost seconds of CPU and
# hundreds of MB per exchange. A span whose text was longer says so (tag ``analysis_scope``).
MAX_ANALYSED_CHARS = 131_072


def analysed_part(text: str, limit: int = MAX_ANALYSED_CHARS) -> tuple[str, bool]:
    """The head (three quarters of ``limit``) and tail (the rest) of a long text, or the text when it fits."""
    if len(text) <= limit:
        return text, False
    head = limit * 3 // 4
    return text[:head] + "\n...\n" + text[len(text) - (limit - head) :], True


def decode_content(
    body: bytes | None, encoding: str | None, limit: int = MAX_DECODED_BYTES
) -> tuple[bytes | None, bool]:
    """Undo gzip or deflate that the upstream applied despite ``Accept-Encoding: identity``.

    At most ``limit`` bytes come out, so a decompression bomb costs no more than that; a body that was itself cut
    short decodes as far as it goes. Returns (decoded or None when there is nothing to undo, whether output was cut).
    """
    if body is None or not encoding:
        return None, False
    name = encoding.lower().strip()
    attempts: tuple[int, ...]
    if name in ("gzip", "x-gzip"):
        attempts = (31,)
    elif name == "deflate":
        attempts = (15, -15)  # zlib-wrapped, as the RFC says, or raw deflate, as some servers send
    else:
        return None, False
    for wbits in attempts:
        try:
            decoder = zlib.decompressobj(wbits)
            out = decoder.decompress(body, limit)
        except zlib.error:
            continue
        return out, bool(decoder.unconsumed_tail)
    return None, False


@attrs.frozen
class Capture:
    span: TraceSpan
    analysis_text: str  # request contents without role prefixes, as the security analysis reads them
    failure: str | None = None  # why the exchange could only be captured raw


def capture_exchange(
    exchange: CompletedExchange, pricing: PricingTable | None, max_decoded_bytes: int = MAX_DECODED_BYTES
) -> Capture:
    """The span of an exchange and the text to analyse, the request parsed once. Never raises: an exchange that
    cannot be understood is still captured, raw, and analysed as raw text, so no body can evade the trace."""
    try:
        decoded, cut = decode_content(exchange.response_body, exchange.content_encoding, max_decoded_bytes)
        request = exchange.request_summary or summarize_request(exchange.path, exchange.request_body)
        span = build_span(exchange, pricing, decoded, request)
        if cut:
            span = attrs.evolve(span, tags={**span.tags, "response_decoding": f"cut at {max_decoded_bytes} bytes"})
        return Capture(span, request.analysis_text)
    except Exception as exc:  # noqa: BLE001 - hostile or unforeseen input: fall back to the raw capture
        return raw_capture(exchange, f"{type(exc).__name__}: {exc}")


def raw_capture(exchange: CompletedExchange, reason: str) -> Capture:
    request_text = clean_text(exchange.request_body.decode("utf-8", errors="replace"))
    response_text: str | None = None
    if exchange.response_body is not None:
        response_text = clean_text(exchange.response_body.decode("utf-8", errors="replace"))
    elif exchange.stream_chunks:
        response_text = clean_text(b"".join(c for _, c in exchange.stream_chunks).decode("utf-8", errors="replace"))
    span = TraceSpan(
        span_id=exchange.span_id,
        trace_id=exchange.trace_id,
        tenant_id=exchange.tenant_id,
        operation_name="proxy_request",
        start_time=exchange.started_at,
        end_time=exchange.started_at + dt.timedelta(milliseconds=exchange.duration_ms),
        provider=exchange.provider,
        model_name="",
        prompt=request_text,
        response=response_text,
        duration_ms=exchange.duration_ms,
        status_code=exchange.status_code,
        error_message=exchange.error_message,
        tags={**exchange.tags, "capture": f"raw: {truncate_utf8(reason, 200)}"},
        agent_id=exchange.agent_id,
    )
    return Capture(span, request_text, reason)
