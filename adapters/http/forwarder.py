"""The transparent proxy: the only code on the hot path of a proxied request.

It forwards the request verbatim to ``upstream_url + path + query``, streams the response back chunk by chunk,
and hands what it saw to the capture pipeline (``ExchangeRecorder.record``, never blocking). It parses nothing:
prompts, SSE events, tokens and costs are worked out later by the capture actor.

This is a raw ASGI callable rather than a Quart route: it saves Quart's request/response machinery on every
proxied request, and it watches ``http.disconnect`` itself so a client that goes away stops the upstream read.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import trio

from domain.capture import CompletedExchange
from domain.findings import SecurityFinding
from domain.providers import detect_provider
from ports.inbound import (
    ExchangeRecorder,
    OutputStreamGuard,
    OutputStreamGuards,
    ProxyAdmission,
    RequestEnforcer,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("llmtrace.proxy")

# Hop-by-hop headers (RFC 9110 7.6.1) plus Host and Content-Length, which the client library sets itself.
_REQUEST_DROP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
        b"accept-encoding",
        b"x-llmtrace-token",  # an LLMTrace credential never reaches the provider
    }
)
_RESPONSE_DROP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
    }
)


def error_body(message: str, kind: str = "proxy_error") -> bytes:
    return json.dumps({"error": {"message": message, "type": kind}}).encode()


async def send_json_error(send: Send, status: int, message: str, kind: str = "proxy_error") -> None:
    body = error_body(message, kind)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestTooLarge(Exception):
    pass


class ClientDisconnected(Exception):
    pass


async def read_body(receive: Receive, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise RequestTooLarge
            parts.append(chunk)
        if not message.get("more_body", False):
            break
    return parts[0] if len(parts) == 1 else b"".join(parts)


class Forwarder:
    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        upstream_url: str,
        max_request_size_bytes: int,
        recorder: ExchangeRecorder,
        gate: ProxyAdmission,
        active: Callable[[int], None],
        enforcer: RequestEnforcer | None = None,
        stream_guards: OutputStreamGuards | None = None,
    ) -> None:
        self._enforcer = enforcer if enforcer is not None and enforcer.active else None
        self._stream_guards = stream_guards
        self._client = client
        self._upstream = upstream_url.rstrip("/")
        self._limit = max_request_size_bytes
        self._recorder = recorder
        self._gate = gate
        self._active = active
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.in_flight += 1
        self._active(1)
        try:
            await self._handle(scope, receive, send)
        finally:
            self._active(-1)
            self.in_flight -= 1

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started_wall = dt.datetime.now(dt.UTC)
        started = time.perf_counter()
        headers_in: dict[bytes, bytes] = {}
        forward_headers: list[tuple[bytes, bytes]] = []
        for name, value in scope["headers"]:
            headers_in[name] = value
            if name not in _REQUEST_DROP:
                forward_headers.append((name, value))
        forward_headers.append((b"accept-encoding", b"identity"))
        tenant_id, rejection = await self._gate.admit(headers_in)
        if rejection is not None:
            payload = json.dumps(dict(rejection.body)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": rejection.status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(payload)).encode()),
                        *rejection.headers,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return
        try:
            body = await read_body(receive, self._limit)
        except RequestTooLarge:
            await send_json_error(send, 413, f"Request body exceeds max_request_size_bytes ({self._limit} bytes)")
            return
        except ClientDisconnected:
            return
        path: str = scope["path"]
        raw_path = scope.get("raw_path") or path.encode()
        query = scope.get("query_string") or b""
        url = self._upstream + raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        method: str = scope["method"]
        provider_header = headers_in.get(b"x-llmtrace-provider")
        provider = detect_provider(provider_header.decode("latin-1") if provider_header else None, self._upstream, path)
        inline: list[SecurityFinding] = []
        tags: dict[str, str] = {}

        def record(
            status: int | None,
            response_body: bytes | None,
            chunks: list[tuple[float, bytes]] | None,
            error: str | None,
            content_encoding: str | None = None,
        ) -> None:
            agent = headers_in.get(b"x-llmtrace-agent-id")
            self._recorder.record(
                CompletedExchange(
                    trace_id=str(uuid.uuid4()),
                    span_id=str(uuid.uuid4()),
                    tenant_id=tenant_id,
                    agent_id=agent.decode("utf-8", "replace") if agent else None,
                    provider=provider,
                    method=method,
                    path=path,
                    request_body=body,
                    started_at=started_wall,
                    status_code=status,
                    response_body=response_body,
                    stream_chunks=tuple(chunks) if chunks is not None else None,
                    duration_ms=round((time.perf_counter() - started) * 1000),
                    error_message=error,
                    content_encoding=content_encoding,
                    tags=tags,
                    inline_findings=tuple(inline),
                )
            )

        flag_headers: list[tuple[bytes, bytes]] = []
        if self._enforcer is not None:
            decision = await self._enforcer.check(path, body)
            inline.extend(decision.findings)
            if decision.action == "block":
                tags["enforcement"] = "blocked"
                payload = json.dumps(decision.block_body()).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": payload})
                record(403, payload, None, "blocked by security enforcement")
                return
            if decision.action == "flag":
                tags["enforcement"] = "flagged"
                flag_headers = [
                    (b"x-llmtrace-flagged", b"true"),
                    (b"x-llmtrace-findings", decision.header_value().encode()),
                ]
        request = self._client.build_request(method, url, headers=forward_headers, content=body)
        try:
            upstream = await self._client.send(request, stream=True)
        except httpx.TimeoutException:
            await send_json_error(send, 504, "Upstream request timed out")
            record(504, None, None, "upstream timeout")
            return
        except httpx.HTTPError as exc:
            await send_json_error(send, 502, "Upstream request failed")
            record(502, None, None, f"upstream unreachable: {type(exc).__name__}")
            return
        response_headers = [(k, v) for k, v in upstream.headers.raw if k.lower() not in _RESPONSE_DROP]
        response_headers.extend(flag_headers)
        content_type = upstream.headers.get("content-type", "")
        encoding = upstream.headers.get("content-encoding")
        try:
            if content_type.startswith("text/event-stream"):
                guard = self._stream_guards.open() if self._stream_guards is not None else None
                chunks, error = await self._stream(upstream, response_headers, receive, send, started, guard)
                if guard is not None:
                    guard.finish()
                    inline.extend(guard.findings)
                    if guard.stopped:
                        tags["early_stop"] = "critical_output"
                record(upstream.status_code, None, chunks, error, encoding)
            else:
                try:
                    payload = await upstream.aread()
                except httpx.TimeoutException:
                    await send_json_error(send, 504, "Upstream response timed out")
                    record(504, None, None, "upstream timeout while reading the response")
                    return
                except httpx.HTTPError as exc:
                    await send_json_error(send, 502, "Upstream response failed")
                    record(502, None, None, f"upstream response failed: {type(exc).__name__}")
                    return
                response_headers.append((b"content-length", str(len(payload)).encode()))
                await send({"type": "http.response.start", "status": upstream.status_code, "headers": response_headers})
                await send({"type": "http.response.body", "body": payload})
                record(upstream.status_code, payload, None, None, encoding)
        finally:
            await upstream.aclose()

    async def _stream(
        self,
        upstream: httpx.Response,
        headers: list[tuple[bytes, bytes]],
        receive: Receive,
        send: Send,
        started: float,
        guard: OutputStreamGuard | None = None,
    ) -> tuple[list[tuple[float, bytes]], str | None]:
        chunks: list[tuple[float, bytes]] = []
        error: str | None = None
        upstream_done = False
        await send({"type": "http.response.start", "status": upstream.status_code, "headers": headers})
        async with trio.open_nursery() as nursery:

            async def watch_disconnect() -> None:
                nonlocal error
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        if not upstream_done:
                            error = "client disconnected before the stream ended"
                            nursery.cancel_scope.cancel()
                        return

            nursery.start_soon(watch_disconnect)
            try:
                async for chunk in upstream.aiter_raw():
                    arrived = (time.perf_counter() - started) * 1000
                    if guard is not None and guard.feed(chunk):
                        # Critical output: end the stream cleanly for the client and stop reading upstream.
                        chunk = guard.termination()
                        chunks.append((arrived, chunk))
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                        break
                    chunks.append((arrived, chunk))
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                upstream_done = True
                await send({"type": "http.response.body", "body": b""})
            except httpx.HTTPError as exc:
                upstream_done = True
                error = f"upstream stream broke: {type(exc).__name__}"
                # End the client's response cleanly; what arrived so far is captured.
                await send({"type": "http.response.body", "body": b""})
            nursery.cancel_scope.cancel()
        return chunks, error
