"""The test bootstrap: the proxy exactly as production wires it (``app.bootstrap.assemble``), with in-memory stores
and a fake upstream transport swapped in, its actors running, and an httpx client that calls its ASGI application in
process. No sockets, no subprocesses: the forwarder (the hot path) under test at the speed of a function call."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import attrs
import httpx
import trio

from adapters.storage.memory import InMemoryTraceRepository
from adapters.storage.memory_alerts import InMemoryAlertRepository, InMemoryDedupStore
from adapters.storage.memory_metadata import InMemoryMetadataRepository
from adapters.storage.reports import InMemoryReportRepository
from app.bootstrap import Overrides, Proxy, Stores, assemble
from app.settings import ProxyConfig, load_config
from app.supervisor import open_pipeline
from domain.traces import TraceSpan

UPSTREAM = "http://upstream.test"


Scope = dict[str, Any]


@attrs.define
class InProcessProxy:
    proxy: Proxy
    client: httpx.AsyncClient
    traces: InMemoryTraceRepository
    upstream_requests: list[httpx.Request]

    async def raw_call(self, method: str, raw_path: bytes, body: bytes = b"") -> tuple[int, bytes]:
        """One ASGI call with the request target exactly as given (an HTTP client would normalise it)."""
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": raw_path.decode("latin-1"),
            "raw_path": raw_path,
            "query_string": b"",
            "headers": [(b"host", b"proxy.test"), (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1),
            "server": ("proxy.test", 80),
        }
        sent: list[dict[str, Any]] = []
        messages = iter([{"type": "http.request", "body": body, "more_body": False}])

        async def receive() -> dict[str, Any]:
            return next(messages, {"type": "http.disconnect"})

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.proxy.asgi(scope, receive, send)
        status = next(m["status"] for m in sent if m["type"] == "http.response.start")
        return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")

    async def stored_spans(self, count: int) -> list[TraceSpan]:
        """Wait until ``count`` spans are stored (the pipeline runs off the response path), then return them."""
        with trio.fail_after(10):
            while len(self.traces.spans) < count:  # noqa: ASYNC110 - polling the fake store
                await trio.sleep(0.005)
        return list(self.traces.spans.values())


def config_for(settings: Mapping[str, Any] | None = None) -> ProxyConfig:
    data: dict[str, Any] = {
        "upstream_url": UPSTREAM,
        "storage": {"profile": "memory", "flush_interval_ms": 10},
        "security_analysis": {"ml_enabled": False},
        "rate_limiting": {"enabled": False},
    }
    for key, value in (settings or {}).items():
        data[key] = {**data[key], **value} if isinstance(value, dict) and isinstance(data.get(key), dict) else value
    return load_config(None, {}, _flatten(data)).config


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping) and key not in ("tenant_overrides", "agents", "custom_models"):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@contextlib.asynccontextmanager
async def in_process_proxy(
    upstream: Callable[[httpx.Request], httpx.Response],
    settings: Mapping[str, Any] | None = None,
    reports: InMemoryReportRepository | None = None,
) -> AsyncIterator[InProcessProxy]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        made = upstream(request)  # handed back unread, as a network response is: the forwarder streams it
        return httpx.Response(made.status_code, headers=made.headers, stream=httpx.ByteStream(made.content))

    traces = InMemoryTraceRepository()
    overrides = Overrides(
        stores=Stores(
            traces=traces,
            metadata=InMemoryMetadataRepository(),
            alerts=InMemoryAlertRepository(),
            reports=reports if reports is not None else InMemoryReportRepository(),
        ),
        dedup=InMemoryDedupStore(),
        upstream_transport=httpx.MockTransport(handler),
        outbound_transport=httpx.MockTransport(lambda request: httpx.Response(204)),
    )
    ready = trio.Event()
    ready.set()
    async with assemble(config_for(settings), overrides) as proxy, open_pipeline(proxy, ready):
        channels = proxy.channels
        async with channels.exchanges_send, channels.ingest_send, channels.reports_send:
            proxy.health.serving = True
            transport = httpx.ASGITransport(app=proxy.asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as client:
                yield InProcessProxy(proxy, client, traces, seen)
