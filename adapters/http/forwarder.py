"""The transparent proxy: the only code on the hot path of a proxied request.

It forwards the request verbatim to the upstream (scheme, host and port fixed by ``upstream_url``; only an
origin-form path and query come from the client), relays the response back chunk by chunk as it arrives (SSE and
plain bodies alike, bytes untouched, so a body the upstream compressed stays compressed and correctly labelled),
and hands what it saw to the capture pipeline (``ExchangeRecorder.record``, never blocking). It parses nothing:
prompts, SSE events, tokens and costs are worked out later, off the event loop, by the capture actor.

Memory per request is bounded: request bodies up to ``capture_max_body_bytes`` are buffered (so enforcement can
read them whole); larger ones are streamed to the upstream as they arrive, and only their first
``capture_max_body_bytes`` are kept for capture and analysis (the span is tagged ``capture_truncated``). The same
bound applies to what is kept of a response.

This is a raw ASGI callable rather than a Quart route: it saves Quart's request/response machinery on every
proxied request, and it watches ``http.disconnect`` itself so a client that goes away stops the upstream read.
Every exchange that reached the upstream is recorded exactly once, whatever ends it: success, an upstream that
breaks mid-body (the client's connection is then aborted, never ended as if complete), a client that leaves
(recorded as 499), or the shutdown deadline.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any

import attrs
import httpx
import trio

from domain.capture import CompletedExchange
from domain.exchange import RequestReading
from domain.findings import SecurityFinding
from domain.protection import StreamRestorer, restore_body
from domain.providers import detect_provider
from domain.rejection import Rejection
from ports.inbound import (
    ExchangeRecorder,
    OutputStreamGuards,
    ProxyAdmission,
    RequestEnforcer,
    RequestProtector,
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
    }
)
RESTORE_MAX_BYTES = 16 * 1_048_576  # a whole response held to put pseudonymised values back
URL_MEMO = 1024
CLIENT_CLOSED_REQUEST = 499  # the client left before the response ended (nginx's convention)


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


async def send_rejection(send: Send, rejection: Rejection) -> bytes:
    payload = json.dumps(dict(rejection.body)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": rejection.status, "headers": [*headers, *rejection.headers]})
    await send({"type": "http.response.body", "body": payload})
    return payload


class RequestTooLarge(Exception):
    pass


class ClientDisconnected(Exception):
    pass


class BodyTimeout(Exception):
    pass


def _climbs(raw_path: bytes) -> bool:
    """A ``.`` or ``..`` segment, plain or percent-encoded: it would leave the upstream's base path."""
    if b"." not in raw_path and b"%" not in raw_path:
        return False
    return any(urllib.parse.unquote_to_bytes(segment) in (b".", b"..") for segment in raw_path.split(b"/"))


class UpstreamTarget:
    """Where proxied requests go. Scheme, host, port and base path come from ``upstream_url`` alone; a request
    contributes an origin-form path and its query, which can never change where the request goes."""

    def __init__(self, upstream_url: str) -> None:
        url = httpx.URL(upstream_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"upstream_url must be an http(s) URL with a host, got {upstream_url!r}")
        self.url = url
        self.text = str(url).rstrip("/")
        self.host = url.host
        self._base = url.raw_path.partition(b"?")[0].rstrip(b"/")
        self._memo: dict[tuple[bytes, bytes], httpx.URL | None] = {}

    def url_for(self, raw_path: bytes, query: bytes) -> httpx.URL | None:
        """None for a target that is not an origin-form path (absolute-form, authority-form, ``@host/...``, ``*``)
        or that climbs out of the base path with dot segments. Recent answers are kept (a URL costs ~20 us to build
        and most traffic goes to a handful of paths); the memo is cleared when it holds URL_MEMO entries."""
        key = (raw_path, query)
        if key in self._memo:
            return self._memo[key]
        url = self._build(raw_path, query)
        if len(self._memo) >= URL_MEMO:
            self._memo.clear()
        self._memo[key] = url
        return url

    def _build(self, raw_path: bytes, query: bytes) -> httpx.URL | None:
        if not raw_path.startswith(b"/") or _climbs(raw_path):
            return None
        try:
            return httpx.URL(
                scheme=self.url.scheme,
                host=self.url.host,
                port=self.url.port,
                raw_path=self._base + raw_path + (b"?" + query if query else b""),
            )
        except httpx.InvalidURL:
            return None


@attrs.define
class _Outcome:
    """What became of one forwarded exchange, filled in as it goes; recorded once, whatever ends it."""

    status: int | None = None
    body_parts: list[bytes] = attrs.Factory(list)
    chunks: list[tuple[float, bytes]] | None = None
    error: str | None = None
    kept: int = 0
    response_truncated: bool = False
    finished: bool = False
    client_gone: bool = False
    content_encoding: str | None = None
    expected: int | None = None  # the response's Content-Length, when it has one
    delivered: int = 0  # bytes sent to the client
    previous: bytes = b""  # the two chunks sent last, to tell whether a stream's terminal event went out
    last: bytes = b""

    def delivered_whole(self) -> bool:
        """Whether the client already has the whole response: every byte of a sized body, or a stream's terminal
        event. A client that closes then (as SDKs do after ``[DONE]``) has not cut the exchange short."""
        if self.expected is not None:
            return self.delivered >= self.expected
        if self.chunks is None:
            return False
        tail = (self.previous + self.last).replace(b"\r\n", b"\n")
        if not tail.endswith(b"\n\n"):
            return False
        final = tail.rstrip().rsplit(b"\n\n", 1)[-1]
        return final == b"data: [DONE]" or any(marker in final for marker in _TERMINAL_EVENTS)


# The last event of an Anthropic messages stream and of a Responses API stream.
_TERMINAL_EVENTS = (b"message_stop", b"response.completed", b"response.failed", b"response.incomplete")


COALESCE_BUFFER = 16  # stream chunks read ahead of a slower client, at most (then reading waits: backpressure)


def _coalesced(upstream: httpx.Response, nursery: trio.Nursery) -> AsyncIterator[list[bytes]]:
    """The response's chunks in batches: those already received together. Each chunk still goes through the output
    guard, capture and restoring on its own (an early stop ends after the chunk that tripped it); the batch goes to
    the client in one write. A task reads the upstream into a bounded
    channel without a checkpoint between chunks that one socket read delivered; the relay takes what is there."""
    into, received = trio.open_memory_channel[bytes | httpx.HTTPError](COALESCE_BUFFER)

    async def pump() -> None:
        async with into:
            try:
                async for raw in upstream.aiter_raw():
                    try:
                        into.send_nowait(raw)
                    except trio.WouldBlock:
                        await into.send(raw)
            except httpx.HTTPError as exc:  # the relay raises it where it would have: a broken response
                await into.send(exc)

    nursery.start_soon(pump)
    return _joined(received)


async def _joined(received: trio.MemoryReceiveChannel[bytes | httpx.HTTPError]) -> AsyncIterator[list[bytes]]:
    async with received:
        async for item in received:
            parts: list[bytes] = []
            while True:
                if isinstance(item, httpx.HTTPError):
                    if parts:
                        yield parts
                    raise item
                parts.append(item)
                try:
                    item = received.receive_nowait()
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
            yield parts


class _NoPump:
    """Stands in for the reading task's nursery when a body is relayed as read (nothing to start or cancel)."""

    cancel_scope = trio.CancelScope()  # never entered: cancelling it is a no-op

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc_info: object) -> bool:
        return False


_NO_PUMP = _NoPump()


async def _one_by_one(upstream: httpx.Response) -> AsyncIterator[list[bytes]]:
    async for raw in upstream.aiter_raw():
        yield [raw]


class UpstreamPool:
    """One connection pool to the upstream, used at the transport level rather than through ``httpx.AsyncClient``.

    A client would keep a cookie jar: a ``Set-Cookie`` from the provider (load balancers set them) would then ride on
    every later request, other tenants' included. The transport sends the request exactly as built: no cookie jar,
    no redirects, no auth, no event hooks, and none of their cost on the hot path."""

    def __init__(self, transport: httpx.AsyncBaseTransport, timeout: httpx.Timeout) -> None:
        self.transport = transport
        self.extensions = {"timeout": timeout.as_dict()}


class Forwarder:
    def __init__(
        self,
        *,
        pools: Sequence[UpstreamPool],
        upstream_url: str,
        max_request_size_bytes: int,
        recorder: ExchangeRecorder,
        gate: ProxyAdmission,
        active: Callable[[int], None],
        enforcer: RequestEnforcer | None = None,
        protector: RequestProtector | None = None,
        stream_guards: OutputStreamGuards | None = None,
        capture_max_body_bytes: int = 1_048_576,
        client_body_timeout_s: float = 30.0,
        upstream_seen: Callable[[bool, str | None], None] | None = None,
    ) -> None:
        self._enforcer = enforcer if enforcer is not None and enforcer.active else None
        self._stream_guards = stream_guards
        self._protector = protector
        # Requests go round-robin over several connection pools: httpcore scans every connection of a pool on each
        # request and each release (one readability syscall per idle connection), so one pool of 1,000 connections
        # costs O(1,000) per request; shards keep that scan short.
        self._pools = tuple(pools)
        self._turn = itertools.count()
        self._target = UpstreamTarget(upstream_url)
        self._limit = max_request_size_bytes
        self._capture_limit = capture_max_body_bytes
        self._body_timeout = client_body_timeout_s
        self._recorder = recorder
        self._gate = gate
        self._active = active
        self._upstream_seen = upstream_seen or (lambda ok, error: None)
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.in_flight += 1
        self._active(1)
        try:
            await self._handle(scope, receive, send)
        finally:
            self._active(-1)
            self.in_flight -= 1

    async def _receive(self, receive: Receive) -> Message:
        with trio.CancelScope(deadline=trio.current_time() + self._body_timeout) as waiting:  # cheaper than fail_after
            message = await receive()
        if waiting.cancelled_caught:
            raise BodyTimeout
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        return message

    async def _read_prefix(self, receive: Receive) -> tuple[bytes, bool, int]:
        """Up to ``capture_max_body_bytes`` of the body: (bytes read, whether that is the whole body, size read)."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await self._receive(receive)
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > self._limit:
                    raise RequestTooLarge
                parts.append(chunk)
            if not message.get("more_body", False):
                return (parts[0] if len(parts) == 1 else b"".join(parts)), True, size
            if size >= self._capture_limit:
                return b"".join(parts), False, size

    async def _rest_of_body(self, first: bytes, size: int, receive: Receive) -> AsyncIterator[bytes]:
        """The body streamed to the upstream as it arrives: what was read already, then the rest."""
        yield first
        while True:
            message = await self._receive(receive)
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > self._limit:
                    raise RequestTooLarge
                yield chunk
            if not message.get("more_body", False):
                return

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started_wall = dt.datetime.now(dt.UTC)
        started = time.perf_counter()
        path: str = scope["path"]
        raw_path: bytes = scope.get("raw_path") or path.encode()
        url = self._target.url_for(raw_path, scope.get("query_string") or b"")
        if url is None:
            await send_json_error(
                send,
                400,
                "the request target must be a path (origin-form, no dot segments); the upstream is fixed by config",
                "invalid_request_target",
            )
            return
        headers_in: dict[bytes, bytes] = {}
        forward_headers: list[tuple[bytes, bytes]] = []
        for name, value in scope["headers"]:
            headers_in[name] = value
            if name not in _REQUEST_DROP:
                forward_headers.append((name, value))
        forward_headers.append((b"accept-encoding", b"identity"))
        admission = await self._gate.admit(headers_in)
        tenant_id = admission.tenant_id
        if admission.rejection is not None:
            await send_rejection(send, admission.rejection)
            return
        if self._gate.enabled:
            authorization = headers_in.get(b"authorization")
            if authorization is not None and self._gate.is_proxy_credential(authorization):
                # The caller authenticated to LLMTrace with it: it is ours, not the provider's.
                forward_headers = [(k, v) for k, v in forward_headers if k != b"authorization"]
        declared = headers_in.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._limit:
            await send_json_error(send, 413, f"Request body exceeds max_request_size_bytes ({self._limit} bytes)")
            return
        try:
            body, complete, size = await self._read_prefix(receive)
        except RequestTooLarge:
            await send_json_error(send, 413, f"Request body exceeds max_request_size_bytes ({self._limit} bytes)")
            return
        except BodyTimeout:
            await send_json_error(
                send, 408, f"request body not received: no data for {self._body_timeout:g}s", "request_timeout"
            )
            return
        except ClientDisconnected:
            return
        reading = RequestReading(path, body)  # read at most once, by the first that needs it; capture reuses it
        if admission.token_cap is not None:
            if len(body) > 65_536:
                summary = await trio.to_thread.run_sync(lambda: reading.summary)
            else:
                summary = reading.summary
            refused = self._gate.check_tokens(admission, summary)
            if refused is not None:
                await send_rejection(send, refused)
                return
        tags: dict[str, str] = {}
        content: bytes | AsyncIterator[bytes] = body
        if not complete:
            content = self._rest_of_body(body, size, receive)
            if declared is not None and declared.isdigit():
                forward_headers.append((b"content-length", declared))
            body = body[: self._capture_limit]
            reading = RequestReading(path, body)
            tags["capture_truncated"] = "request"
        method: str = scope["method"]
        provider_header = headers_in.get(b"x-llmtrace-provider")
        provider = detect_provider(
            provider_header.decode("latin-1") if provider_header else None, self._target.text, path
        )
        inline: list[SecurityFinding] = list(admission.findings)
        outcome = _Outcome()

        def record() -> None:
            agent = headers_in.get(b"x-llmtrace-agent-id")
            user = headers_in.get(b"x-llmtrace-user-id")
            if outcome.response_truncated:
                tags["capture_truncated"] = "request,response" if "capture_truncated" in tags else "response"
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
                    status_code=outcome.status,
                    response_body=b"".join(outcome.body_parts) if outcome.chunks is None else None,
                    stream_chunks=tuple(outcome.chunks) if outcome.chunks is not None else None,
                    duration_ms=round((time.perf_counter() - started) * 1000),
                    error_message=outcome.error,
                    content_encoding=outcome.content_encoding,
                    tags=tags,
                    inline_findings=tuple(inline),
                    request_summary=reading.parsed_summary if reading.body is body else None,
                    end_user=user.decode("utf-8", "replace")[:512] if user else None,
                    credential=admission.credential,
                )
            )

        restore: Mapping[str, str] = {}
        if self._protector is not None:
            protection = await self._protector.protect(tenant_id, path, body, complete)
            if protection is not None:
                inline.extend(protection.findings)
                tags["data_protection"] = protection.tag
                if protection.rejection is not None:
                    body = protection.body  # what is stored: redacted, or nothing when it could not be read
                    outcome.status, outcome.error = protection.rejection.status, "refused by data protection"
                    outcome.body_parts.append(await send_rejection(send, protection.rejection))
                    record()
                    return
                if complete:
                    body = content = protection.body
                    reading = RequestReading(path, body)
                restore = protection.restore
        flag_headers: list[tuple[bytes, bytes]] = list(admission.headers)
        if self._enforcer is not None:
            decision = await self._enforcer.check(reading)
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
                outcome.status, outcome.error = 403, "blocked by security enforcement"
                outcome.body_parts.append(payload)
                record()
                return
            if decision.action == "flag":
                tags["enforcement"] = "flagged"
                flag_headers += [
                    (b"x-llmtrace-flagged", b"true"),
                    (b"x-llmtrace-findings", decision.header_value().encode()),
                ]
        pool = self._pools[next(self._turn) % len(self._pools)]
        request = httpx.Request(method, url, headers=forward_headers, content=content, extensions=pool.extensions)
        try:
            await self._exchange(
                pool, request, complete, receive, send, started, flag_headers, outcome, inline, tags, restore
            )
        finally:
            if outcome.client_gone:
                outcome.status = CLIENT_CLOSED_REQUEST
                outcome.error = outcome.error or "client disconnected before the response ended"
            elif not outcome.finished and outcome.error is None:
                outcome.error = "exchange interrupted: the proxy stopped it (shutdown deadline)"
            record()

    async def _exchange(
        self,
        pool: UpstreamPool,
        request: httpx.Request,
        body_complete: bool,
        receive: Receive,
        send: Send,
        started: float,
        flag_headers: list[tuple[bytes, bytes]],
        outcome: _Outcome,
        inline: list[SecurityFinding],
        tags: dict[str, str],
        restore: Mapping[str, str],
    ) -> None:
        async with trio.open_nursery() as nursery:

            async def watch_disconnect() -> None:
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        if outcome.finished:
                            return
                        if outcome.delivered_whole():
                            outcome.finished = True
                        else:
                            outcome.client_gone = True
                        nursery.cancel_scope.cancel()
                        return

            try:
                if body_complete:
                    nursery.start_soon(watch_disconnect)
                try:
                    upstream = await pool.transport.handle_async_request(request)
                except RequestTooLarge:
                    outcome.status, outcome.error, outcome.finished = 413, "request body too large", True
                    await send_json_error(send, 413, f"Request body exceeds max_request_size_bytes ({self._limit} B)")
                    return
                except BodyTimeout:
                    outcome.status, outcome.error, outcome.finished = 408, "request body stalled", True
                    await send_json_error(send, 408, "request body not received in time", "request_timeout")
                    return
                except ClientDisconnected:
                    outcome.client_gone = True
                    return
                except httpx.TimeoutException as exc:
                    message = f"upstream {self._target.host} timed out ({type(exc).__name__})"
                    self._upstream_seen(False, message)
                    log.warning("%s", message)
                    outcome.status, outcome.error, outcome.finished = 504, message, True
                    await send_json_error(send, 504, message)
                    return
                except httpx.HTTPError as exc:
                    message = f"upstream {self._target.host} unreachable: {type(exc).__name__}: {exc}"
                    self._upstream_seen(False, message)
                    log.warning("%s", message)
                    outcome.status, outcome.error, outcome.finished = 502, message, True
                    await send_json_error(send, 502, message)
                    return
                self._upstream_seen(True, None)
                if not body_complete:
                    nursery.start_soon(watch_disconnect)
                try:
                    await self._relay(upstream, send, started, flag_headers, outcome, inline, tags, restore)
                finally:
                    with trio.CancelScope(shield=True), trio.move_on_after(1):
                        await upstream.aclose()
            finally:
                nursery.cancel_scope.cancel()

    async def _relay(
        self,
        upstream: httpx.Response,
        send: Send,
        started: float,
        flag_headers: list[tuple[bytes, bytes]],
        outcome: _Outcome,
        inline: list[SecurityFinding],
        tags: dict[str, str],
        restore: Mapping[str, str],
    ) -> None:
        """Relay the response as it arrives, keeping at most ``capture_max_body_bytes`` of it for capture.

        With pseudonymised values to restore, a stream goes through a ``StreamRestorer`` (a placeholder split across
        chunks is held back until complete, nothing else waits) and a whole response is read, restored, then sent
        with its new length. A compressed body is relayed as it is (tag ``data_protection_restore``)."""
        outcome.status = upstream.status_code
        outcome.content_encoding = upstream.headers.get("content-encoding")
        sse = upstream.headers.get("content-type", "").startswith("text/event-stream")
        length = upstream.headers.get("content-length", "")
        if not sse and length.isdigit():
            outcome.expected = int(length)
        guard = self._stream_guards.open() if sse and self._stream_guards is not None else None
        drop = _RESPONSE_DROP | {b"content-length"} if sse else _RESPONSE_DROP  # an early stop changes the length
        headers = [(k, v) for k, v in upstream.headers.raw if k.lower() not in drop]
        headers.extend(flag_headers)
        if sse:
            outcome.chunks = []
        restorer: StreamRestorer | None = None
        whole: list[bytes] | None = None  # a non-streamed body held for restoring
        if restore and outcome.content_encoding:
            tags["data_protection_restore"] = f"skipped: the upstream sent {outcome.content_encoding}"
        elif restore and sse:
            restorer = StreamRestorer(restore)
        elif restore:
            whole = []
            outcome.expected = None
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        if whole is None:
            await send({"type": "http.response.start", "status": upstream.status_code, "headers": headers})
        held = 0
        limit = self._capture_limit
        # A stream's events that arrive together go out in one write (one send, one read for the client); nothing
        # waits for more. Other bodies are relayed chunk by chunk as read, with no reading task (nor its nursery).
        async with trio.open_nursery() if sse else _NO_PUMP as pumping:
            source = _coalesced(upstream, pumping) if sse else _one_by_one(upstream)
            try:
                async for batch in source:
                    out: list[bytes] = []
                    stop = False
                    for raw in batch:
                        chunk = raw
                        stop = guard is not None and guard.feed(chunk)
                        if stop:
                            assert guard is not None
                            chunk = guard.termination()  # critical output: end the stream cleanly, stop reading
                        if outcome.kept < limit:
                            piece = chunk if outcome.kept + len(chunk) <= limit else chunk[: limit - outcome.kept]
                            outcome.kept += len(piece)
                            if outcome.chunks is not None:
                                outcome.chunks.append(((time.perf_counter() - started) * 1000, piece))
                            else:
                                outcome.body_parts.append(piece)
                            if len(piece) < len(chunk):
                                outcome.response_truncated = True
                        else:
                            outcome.response_truncated = True
                        if whole is not None:
                            whole.append(chunk)
                            held += len(chunk)
                            if held > RESTORE_MAX_BYTES:  # too large to hold: relay it as the upstream sent it
                                tags["data_protection_restore"] = f"skipped: response above {RESTORE_MAX_BYTES} bytes"
                                start = {"type": "http.response.start", "status": upstream.status_code}
                                await send({**start, "headers": headers})
                                chunk, whole = b"".join(whole), None
                            else:
                                continue
                        if restorer is not None:
                            chunk = restorer.feed(chunk)
                            if not chunk:
                                continue
                        out.append(chunk)
                        if stop:
                            break
                    if out:
                        chunk = out[0] if len(out) == 1 else b"".join(out)
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                        outcome.delivered += len(chunk)
                        outcome.previous, outcome.last = outcome.last, chunk
                    if stop:
                        break
            except httpx.HTTPError as exc:
                # The client must see a broken response, never one that looks complete: return without the final
                # body message, and the server aborts the connection.
                outcome.error = f"upstream response broke after {outcome.kept} bytes: {type(exc).__name__}"
                outcome.finished = True
                return
            finally:
                pumping.cancel_scope.cancel()  # whatever ended the relay (an early stop too), stop reading upstream
                if guard is not None:
                    guard.finish()
                    inline.extend(guard.findings)
                    if guard.stopped:
                        tags["early_stop"] = "critical_output"
        if restorer is not None:
            tail = restorer.finish()
            if tail:
                await send({"type": "http.response.body", "body": tail, "more_body": True})
                outcome.previous, outcome.last = outcome.last, tail
        if whole is not None:
            raw = b"".join(whole)
            if len(raw) > 65_536:
                restored = await trio.to_thread.run_sync(restore_body, raw, restore)
            else:
                restored = restore_body(raw, restore)
            headers.append((b"content-length", str(len(restored)).encode()))
            await send({"type": "http.response.start", "status": upstream.status_code, "headers": headers})
            await send({"type": "http.response.body", "body": restored, "more_body": True})
            outcome.delivered += len(restored)
        outcome.finished = True
        await send({"type": "http.response.body", "body": b""})
