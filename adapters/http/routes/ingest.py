"""OTLP/HTTP ingest (``POST /v1/traces``, protobuf or JSON, gzip or not): spans join the capture pipeline."""

from __future__ import annotations

from quart import Blueprint, Response, request

from adapters import otlp
from adapters.http.routes.common import api_error, services, tenant

routes = Blueprint("ingest", __name__)


@routes.route("/v1/traces", methods=["POST"])
async def otlp_ingest() -> Response:
    span_ingest = services().span_ingest
    if not services().otel_ingest_enabled or span_ingest is None:
        return api_error(404, "OTEL ingestion is not enabled")
    content_type = request.headers.get("content-type", "")
    try:
        raw = await request.get_data()
        data = raw if isinstance(raw, bytes) else raw.encode()
        body = otlp.decompress(data, request.headers.get("content-encoding"))
        parsed = otlp.parse_request(body, content_type)
    except otlp.OtlpDecodeError as exc:
        return api_error(400, str(exc))
    spans, rejected, reasons = otlp.to_spans(parsed, tenant())
    accepted = await span_ingest.submit([(s.span, s.analysis_text) for s in spans])
    if accepted < len(spans):
        rejected += len(spans) - accepted
        reasons.append("the analysis queue is full")
    payload, media_type = otlp.response_body(rejected, reasons, content_type)
    return Response(payload, status=200, content_type=media_type)
