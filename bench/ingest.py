"""``just bench ingest``: OTLP/HTTP ingest throughput, from the first request to the last span stored."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import start_mock, start_proxy


def batch(size: int) -> bytes:
    now = time.time_ns()
    spans = []
    for i in range(size):
        attrs = [
            KeyValue(key="gen_ai.system", value=AnyValue(string_value="openai")),
            KeyValue(key="gen_ai.request.model", value=AnyValue(string_value="gpt-4o-mini")),
            KeyValue(key="gen_ai.usage.input_tokens", value=AnyValue(int_value=40)),
            KeyValue(key="gen_ai.usage.output_tokens", value=AnyValue(int_value=20)),
            KeyValue(key="gen_ai.prompt", value=AnyValue(string_value=f"Summarise report number {i} please")),
            KeyValue(key="gen_ai.completion", value=AnyValue(string_value="Here is the summary.")),
        ]
        spans.append(
            Span(
                trace_id=uuid.uuid4().bytes,
                span_id=uuid.uuid4().bytes[:8],
                name="chat",
                start_time_unix_nano=now,
                end_time_unix_nano=now + 1_000_000,
                attributes=attrs,
            )
        )
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])])
    return request.SerializeToString()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench ingest")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--size", type=int, default=250)
    parser.add_argument("--ml", action="store_true", help="run with the ML ensemble (the product default)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="llmtrace-bench-ingest-"))
    mock = start_mock(tmp)
    proxy = start_proxy(
        tmp,
        mock.url,
        {
            "otel_ingest": {"enabled": True},
            "logging": {"level": "warn"},
            "capture_queue_capacity": 100000,
            "security_analysis": {"ml_enabled": args.ml},
        },
    )
    tenant = {"X-LLMTrace-Tenant-ID": str(uuid.uuid4()), "content-type": "application/x-protobuf"}
    bodies = [batch(args.size) for _ in range(args.batches)]
    total = args.batches * args.size
    try:
        started = time.perf_counter()
        rejected = 0
        with httpx.Client(timeout=30) as client:
            for body in bodies:
                response = client.post(f"{proxy.url}/v1/traces", content=body, headers=tenant)
                response.raise_for_status()
                if response.content:
                    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

                    parsed = ExportTraceServiceResponse()
                    parsed.ParseFromString(response.content)
                    rejected += parsed.partial_success.rejected_spans
            accepted_at = time.perf_counter() - started
            while True:
                stored = client.get(f"{proxy.url}/api/v1/stats", headers=tenant).json()["total_spans"]
                if stored >= total - rejected or time.perf_counter() - started > 300:
                    break
                time.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        proxy.process.stop()
        mock.process.stop()
    print(
        f"{total} spans in {args.batches} OTLP/HTTP requests: accepted in {accepted_at:.2f}s "
        f"({total / accepted_at:,.0f} spans/s), analysed and stored in {elapsed:.2f}s "
        f"({stored / elapsed:,.0f} spans/s), rejected {rejected}, ml={'on' if args.ml else 'off'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
