"""gRPC ingest (``grpc.enabled``, ``grpc.listen_addr``): the standard OTLP ``TraceService/Export`` and the original's
``llmtrace.ingest.v1.TraceIngestionService`` (IngestTraces, StreamTraces).

grpcio serves from its own thread pool; each call hops into trio (``trio.from_thread``) to authenticate with the same
rules as HTTP (``authorization: Bearer`` or ``x-llmtrace-token`` metadata) and to hand spans to the pipeline.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent import futures
from typing import Any

import grpc
import trio
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from adapters import otlp
from adapters.grpc import llmtrace_pb2, llmtrace_pb2_grpc
from domain.errors import AuthError
from domain.providers import Provider
from domain.tenancy import Caller
from domain.traces import TraceSpan

log = logging.getLogger("llmtrace.grpc")

PROVIDERS = {
    1: Provider.OPENAI, 2: Provider.ANTHROPIC, 3: Provider.VLLM, 4: Provider.SGLANG, 5: Provider.TGI,
    6: Provider.OLLAMA, 7: Provider.AZURE_OPENAI, 8: Provider.BEDROCK, 9: Provider.CUSTOM,
}  # fmt: skip
MAX_MESSAGE = 64 * 1024 * 1024

Authenticate = Callable[[Mapping[bytes, bytes]], Awaitable[Caller]]
Submit = Callable[[Sequence[tuple[TraceSpan, str]]], Awaitable[int]]


def _uuid_or_none(text: str) -> str | None:
    if not text:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def llmtrace_span(proto: Any, caller: Caller) -> TraceSpan:
    """Raises ValueError for a span to reject (invalid trace or tenant id)."""
    trace_id = _uuid_or_none(proto.trace_id)
    if trace_id is None:
        raise ValueError(f"invalid trace_id {proto.trace_id!r}")
    tenant = caller.tenant_id
    if proto.tenant_id:
        claimed = _uuid_or_none(proto.tenant_id)
        if claimed is None:
            raise ValueError(f"invalid tenant_id {proto.tenant_id!r}")
        if caller.superuser:
            tenant = claimed  # auth off or the bootstrap key: the span says whose it is
    start = (
        dt.datetime.fromtimestamp(proto.start_time_unix_nano / 1e9, dt.UTC)
        if proto.start_time_unix_nano
        else dt.datetime.now(dt.UTC)
    )
    end = dt.datetime.fromtimestamp(proto.end_time_unix_nano / 1e9, dt.UTC) if proto.end_time_unix_nano else None
    prompt_tokens = proto.prompt_tokens or None
    completion_tokens = proto.completion_tokens or None
    total = proto.total_tokens or (
        None if prompt_tokens is None and completion_tokens is None else (prompt_tokens or 0) + (completion_tokens or 0)
    )
    return TraceSpan(
        span_id=_uuid_or_none(proto.span_id) or str(uuid.uuid4()),
        trace_id=trace_id,
        parent_span_id=_uuid_or_none(proto.parent_span_id),
        tenant_id=tenant,
        operation_name=proto.operation_name or "grpc_span",
        start_time=start,
        end_time=end,
        provider=PROVIDERS.get(proto.provider, Provider.CUSTOM),
        model_name=proto.model_name,
        prompt=proto.prompt,
        response=proto.response or None,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=total,
        time_to_first_token_ms=proto.time_to_first_token_ms or None,
        duration_ms=proto.duration_ms or None,
        status_code=proto.status_code or None,
        error_message=proto.error_message or None,
        tags={**dict(proto.tags), "ingest": "grpc"},
    )


class GrpcIngest:
    def __init__(self, authenticate: Authenticate, submit: Submit, token: trio.lowlevel.TrioToken) -> None:
        self._authenticate = authenticate
        self._submit = submit
        self._token = token

    def caller(self, context: grpc.ServicerContext) -> Caller:
        headers = {
            k.lower().encode(): (v if isinstance(v, bytes) else v.encode()) for k, v in context.invocation_metadata()
        }
        try:
            return trio.from_thread.run(self._authenticate, headers, trio_token=self._token)
        except AuthError as exc:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
            raise

    def submit(self, items: Sequence[tuple[TraceSpan, str]]) -> int:
        return trio.from_thread.run(self._submit, items, trio_token=self._token)

    def ingest_protos(self, protos: Iterable[Any], caller: Caller) -> tuple[int, int, str]:
        items: list[tuple[TraceSpan, str]] = []
        errors: list[str] = []
        for proto in protos:
            try:
                span = llmtrace_span(proto, caller)
            except ValueError as exc:
                errors.append(str(exc))
                continue
            items.append((span, span.prompt))
        accepted = self.submit(items) if items else 0
        rejected = len(errors) + len(items) - accepted
        return accepted, rejected, "; ".join(errors[:3])


class _OtlpService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, ingest: GrpcIngest) -> None:
        self._ingest = ingest

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        caller = self._ingest.caller(context)
        spans, rejected, reasons = otlp.to_spans(request, caller.tenant_id)
        accepted = self._ingest.submit([(s.span, s.analysis_text) for s in spans])
        rejected += len(spans) - accepted
        response = trace_service_pb2.ExportTraceServiceResponse()
        if rejected:
            response.partial_success.rejected_spans = rejected
            response.partial_success.error_message = "; ".join(reasons[:3]) or "the analysis queue is full"
        return response


class _LlmtraceService(llmtrace_pb2_grpc.TraceIngestionServiceServicer):
    def __init__(self, ingest: GrpcIngest) -> None:
        self._ingest = ingest

    def IngestTraces(self, request: Any, context: grpc.ServicerContext) -> Any:
        caller = self._ingest.caller(context)
        accepted, rejected, error = self._ingest.ingest_protos(request.spans, caller)
        return llmtrace_pb2.IngestTracesResponse(accepted_spans=accepted, rejected_spans=rejected, error_message=error)

    def StreamTraces(self, request_iterator: Any, context: grpc.ServicerContext) -> Any:
        caller = self._ingest.caller(context)
        accepted = rejected = 0
        errors: list[str] = []
        for message in request_iterator:
            a, r, e = self._ingest.ingest_protos(message.spans, caller)
            accepted, rejected = accepted + a, rejected + r
            if e:
                errors.append(e)
        return llmtrace_pb2.StreamTracesResponse(
            accepted_spans=accepted, rejected_spans=rejected, error_message="; ".join(errors[:3])
        )


def start_grpc_server(listen_addr: str, ingest: GrpcIngest) -> tuple[grpc.Server, int]:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="grpc-ingest"),
        options=[("grpc.max_receive_message_length", MAX_MESSAGE)],
    )
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_OtlpService(ingest), server)
    llmtrace_pb2_grpc.add_TraceIngestionServiceServicer_to_server(_LlmtraceService(ingest), server)
    port = server.add_insecure_port(listen_addr)
    if port == 0:
        raise OSError(f"cannot listen for gRPC on {listen_addr}")
    server.start()
    log.info("gRPC ingest listening on %s", listen_addr.rsplit(":", 1)[0] + f":{port}")
    return server, port
