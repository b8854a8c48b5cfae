"""``llmtrace-mock-upstream``: a local OpenAI- and Anthropic-compatible LLM for tests, benchmarks and demos.

Routes: POST /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/responses, /v1/messages (streaming and
not, tool calls, usage), GET /v1/models. Behaviour is set by CLI flags and can be overridden per request:

    x-mock-latency-ms       delay before a non-streaming response (flag --latency-ms)
    x-mock-ttft-ms          delay before the first streamed token (flag --ttft-ms)
    x-mock-inter-token-ms   delay between streamed tokens (flag --inter-token-ms)
    x-mock-error-status     answer with this HTTP status and a provider-shaped error body (flag --error-status
                            with --error-rate for a random share of requests)
    x-mock-response         the assistant text to return (default: a deterministic echo of the prompt)
    x-mock-tokens           how many tokens to stream when no text is given (default: 12)
    x-mock-no-usage         "1": omit usage from the response

Misbehaviours, for hardening tests and benchmarks of whatever sits in front of it:

    x-mock-body-bytes       pad the assistant text so the (non-streaming) body is about this many bytes
    x-mock-gzip             "1": gzip the non-streaming body (Content-Encoding: gzip) whatever the client accepts
    x-mock-gzip-bomb        answer with this many zero bytes, gzipped (a decompression bomb), streamed out
    x-mock-break-after      streaming: after this many events, abort the connection (no terminating chunk)
    x-mock-stall-after      streaming: after this many events, send nothing more until the client leaves
    x-mock-chunk-chars      streaming: split the text into pieces of this many characters (default: words)

Introspection for tests: GET /_mock/requests (recent requests: method, path, query, headers, body) and
GET /_mock/stats (stream counts, including streams whose client went away). DELETE /_mock/requests clears both.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import math
import random
import sys
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import attrs
import hypercorn
import hypercorn.trio
import trio

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@attrs.define
class MockSettings:
    latency_ms: float = 0.0
    ttft_ms: float = 0.0
    inter_token_ms: float = 0.0
    error_status: int = 500
    error_rate: float = 0.0
    seed: int = 0


@attrs.define
class Behaviour:
    latency_ms: float
    ttft_ms: float
    inter_token_ms: float
    error_status: int | None
    response_text: str | None
    tokens: int
    usage: bool
    ids: random.Random  # deterministic per request body with x-mock-deterministic, so runs can be compared
    created: int
    break_after: int = -1
    stall_after: int = -1
    chunk_chars: int = 0

    def pieces(self, text: str) -> list[str]:
        """The streamed fragments of ``text``: words, or fixed-size pieces (which split anything, placeholders too)."""
        if self.chunk_chars > 0:
            return [text[i : i + self.chunk_chars] for i in range(0, len(text), self.chunk_chars)]
        return _words(text)

    def uid(self, n: int = 24) -> str:
        return f"{self.ids.getrandbits(4 * n):0{n}x}"


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


def _count_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


class MockUpstream:
    def __init__(self, settings: MockSettings) -> None:
        self.settings = settings
        self.requests: deque[dict[str, Any]] = deque(maxlen=200)
        self.stats = {"requests": 0, "streams_started": 0, "streams_completed": 0, "streams_disconnected": 0}
        self._random = random.Random(settings.seed)

    # ------------------------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope["path"]
        method: str = scope["method"]
        if path.startswith("/_mock/"):
            await self._introspect(method, path, send)
            return
        self.stats["requests"] += 1
        self.requests.append(
            {
                "method": method,
                "path": path,
                "query": scope.get("query_string", b"").decode("latin-1"),
                "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
                "body_b64": base64.b64encode(body).decode(),
            }
        )
        behaviour = self._behaviour(headers, body)
        if "x-mock-gzip-bomb" in headers:
            await self._gzip_bomb(send, int(headers["x-mock-gzip-bomb"]))
            return
        if headers.get("x-mock-gzip") == "1":
            send = _gzipping(send)
        if "x-mock-body-bytes" in headers:
            behaviour.response_text = "x" * int(headers["x-mock-body-bytes"])
        behaviour.break_after = int(headers.get("x-mock-break-after", "-1"))
        behaviour.stall_after = int(headers.get("x-mock-stall-after", "-1"))
        behaviour.chunk_chars = int(headers.get("x-mock-chunk-chars", "0"))
        if method == "GET" and path == "/v1/models":
            await self._json(send, 200, {"object": "list", "data": [{"id": "mock-gpt", "object": "model"}]})
            return
        if method != "POST":
            await self._json(send, 404, {"error": {"message": f"no route {method} {path}", "type": "not_found"}})
            return
        try:
            request = json.loads(body) if body else {}
        except (ValueError, RecursionError):
            await self._json(
                send, 400, {"error": {"message": "body is not valid JSON", "type": "invalid_request_error"}}
            )
            return
        if not isinstance(request, dict):
            await self._json(
                send, 400, {"error": {"message": "body must be an object", "type": "invalid_request_error"}}
            )
            return
        anthropic = path == "/v1/messages"
        if behaviour.error_status is not None:
            await trio.sleep(behaviour.latency_ms / 1000)
            await self._error(send, behaviour.error_status, anthropic)
            return
        routes = {
            "/v1/chat/completions": self._chat,
            "/v1/completions": self._completions,
            "/v1/embeddings": self._embeddings,
            "/v1/responses": self._responses,
            "/v1/messages": self._messages,
        }
        handler = routes.get(path)
        if handler is None:
            await self._json(send, 404, {"error": {"message": f"no route {method} {path}", "type": "not_found"}})
            return
        await handler(request, behaviour, receive, send)

    def _behaviour(self, headers: dict[str, str], body: bytes) -> Behaviour:
        s = self.settings

        def num(name: str, default: float) -> float:
            try:
                return float(headers[name]) if name in headers else default
            except ValueError:
                return default

        deterministic = headers.get("x-mock-deterministic") == "1"
        error: int | None = None
        if "x-mock-error-status" in headers:
            error = int(headers["x-mock-error-status"])
        elif s.error_rate > 0 and self._random.random() < s.error_rate:
            error = s.error_status
        return Behaviour(
            latency_ms=num("x-mock-latency-ms", s.latency_ms),
            ttft_ms=num("x-mock-ttft-ms", s.ttft_ms),
            inter_token_ms=num("x-mock-inter-token-ms", s.inter_token_ms),
            error_status=error,
            response_text=headers.get("x-mock-response"),
            tokens=int(num("x-mock-tokens", 12)),
            usage=headers.get("x-mock-no-usage") != "1",
            ids=random.Random(hashlib.sha256(body).digest()) if deterministic else random.Random(),
            created=1_700_000_000 if deterministic else int(time.time()),
        )

    async def _introspect(self, method: str, path: str, send: Send) -> None:
        if path == "/_mock/requests" and method == "DELETE":
            self.requests.clear()
            for key in self.stats:
                self.stats[key] = 0
            await self._json(send, 200, {"cleared": True})
        elif path == "/_mock/requests":
            await self._json(send, 200, {"requests": list(self.requests)})
        elif path == "/_mock/stats":
            await self._json(send, 200, self.stats)
        else:
            await self._json(send, 404, {"error": {"message": "unknown mock route", "type": "not_found"}})

    @staticmethod
    async def _gzip_bomb(send: Send, size: int) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = b"0" * min(size, 1 << 20)
        left = size
        while left > 0:
            piece = compressor.compress(block[: min(left, len(block))])
            left -= min(left, len(block))
            if piece:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": compressor.flush()})

    # ------------------------------------------------------------------------------------------------------
    @staticmethod
    async def _json(send: Send, status: int, payload: Any, extra: list[tuple[bytes, bytes]] | None = None) -> None:
        body = json.dumps(payload).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers.extend(extra or [])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _error(self, send: Send, status: int, anthropic: bool) -> None:
        message = f"mock upstream error {status}"
        if anthropic:
            kind = {429: "rate_limit_error", 401: "authentication_error", 400: "invalid_request_error"}.get(
                status, "api_error"
            )
            payload: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
        else:
            kind = {429: "rate_limit_exceeded", 401: "invalid_api_key", 400: "invalid_request_error"}.get(
                status, "server_error"
            )
            payload = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
        await self._json(send, status, payload, [(b"x-mock-error", b"1")])

    async def _stream(self, receive: Receive, send: Send, events: list[bytes], behaviour: Behaviour) -> None:
        """Send SSE events with the configured timing; stop when the client disconnects."""
        self.stats["streams_started"] += 1
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        disconnected = False
        async with trio.open_nursery() as nursery:

            async def watch() -> None:
                nonlocal disconnected
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        disconnected = True
                        nursery.cancel_scope.cancel()
                        return

            nursery.start_soon(watch)
            await trio.sleep(behaviour.ttft_ms / 1000)
            for index, event in enumerate(events):
                if index == behaviour.break_after:
                    raise BrokenStream(f"x-mock-break-after: {index}")
                if index == behaviour.stall_after:
                    await trio.sleep_forever()
                if index and behaviour.inter_token_ms:
                    await trio.sleep(behaviour.inter_token_ms / 1000)
                await send({"type": "http.response.body", "body": event, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            nursery.cancel_scope.cancel()
        if disconnected:
            self.stats["streams_disconnected"] += 1
        else:
            self.stats["streams_completed"] += 1

    def _reply_text(self, prompt: str, behaviour: Behaviour) -> str:
        if behaviour.response_text is not None:
            return behaviour.response_text
        digest = hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        words = [f"mock{digest}"] + [f"token{i}" for i in range(1, max(behaviour.tokens, 1))]
        return " ".join(words)

    @staticmethod
    def _tool_arguments(tool: dict[str, Any]) -> dict[str, Any]:
        schema = (
            tool.get("parameters") or tool.get("input_schema") or (tool.get("function") or {}).get("parameters") or {}
        )
        props = schema.get("properties") or {}
        required = schema.get("required") or list(props)
        return {name: "mock" if (props.get(name) or {}).get("type", "string") == "string" else 1 for name in required}

    # ------------------------------------------------------------------------------------------------------
    async def _chat(self, request: dict[str, Any], behaviour: Behaviour, receive: Receive, send: Send) -> None:
        messages = request.get("messages") or []
        prompt = "\n".join(_content_text(m.get("content")) for m in messages if isinstance(m, dict))
        model = str(request.get("model") or "mock-gpt")
        tools = request.get("tools") or []
        wants_tool = bool(tools) and not any(isinstance(m, dict) and m.get("role") == "tool" for m in messages)
        text = "" if wants_tool else self._reply_text(prompt, behaviour)
        prompt_tokens = _count_tokens(prompt)
        completion_tokens = len(_words(text)) if text else 0
        created = behaviour.created
        completion_id = f"chatcmpl-{behaviour.uid(24)}"
        tool_call: dict[str, Any] | None = None
        if wants_tool:
            function = tools[0].get("function") or {}
            tool_call = {
                "id": f"call_{behaviour.uid(20)}",
                "type": "function",
                "function": {
                    "name": function.get("name", "tool"),
                    "arguments": json.dumps(self._tool_arguments(tools[0])),
                },
            }
            completion_tokens = 10
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        finish = "tool_calls" if tool_call else "stop"
        if not request.get("stream"):
            await trio.sleep(behaviour.latency_ms / 1000)
            message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
            if tool_call:
                message["tool_calls"] = [tool_call]
            payload: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
                "system_fingerprint": "fp_mock",
            }
            if behaviour.usage:
                payload["usage"] = usage
            await self._json(send, 200, payload)
            return

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            data = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_mock",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            return b"data: " + json.dumps(data).encode() + b"\n\n"

        events = [chunk({"role": "assistant", "content": ""})]
        if tool_call:
            events.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": tool_call["id"],
                                "type": "function",
                                "function": {"name": tool_call["function"]["name"], "arguments": ""},
                            }
                        ]
                    }
                )
            )
            args = tool_call["function"]["arguments"]
            for i in range(0, len(args), 8):
                events.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[i : i + 8]}}]}))
        else:
            events.extend(chunk({"content": word}) for word in behaviour.pieces(text))
        events.append(chunk({}, finish))
        if behaviour.usage and (request.get("stream_options") or {}).get("include_usage"):
            data = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            events.append(b"data: " + json.dumps(data).encode() + b"\n\n")
        events.append(b"data: [DONE]\n\n")
        await self._stream(receive, send, events, behaviour)

    async def _completions(self, request: dict[str, Any], behaviour: Behaviour, receive: Receive, send: Send) -> None:
        prompt = request.get("prompt")
        prompt_text = prompt if isinstance(prompt, str) else " ".join(p for p in prompt or [] if isinstance(p, str))
        text = self._reply_text(prompt_text, behaviour)
        model = str(request.get("model") or "mock-instruct")
        usage = {"prompt_tokens": _count_tokens(prompt_text), "completion_tokens": len(_words(text))}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        cid = f"cmpl-{behaviour.uid(24)}"
        if not request.get("stream"):
            await trio.sleep(behaviour.latency_ms / 1000)
            payload = {
                "id": cid,
                "object": "text_completion",
                "created": behaviour.created,
                "model": model,
                "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}],
            }
            if behaviour.usage:
                payload["usage"] = usage
            await self._json(send, 200, payload)
            return
        events = []
        for word in _words(text):
            data = {
                "id": cid,
                "object": "text_completion",
                "created": behaviour.created,
                "model": model,
                "choices": [{"text": word, "index": 0, "logprobs": None, "finish_reason": None}],
            }
            events.append(b"data: " + json.dumps(data).encode() + b"\n\n")
        events.append(b"data: [DONE]\n\n")
        await self._stream(receive, send, events, behaviour)

    async def _embeddings(self, request: dict[str, Any], behaviour: Behaviour, receive: Receive, send: Send) -> None:
        value = request.get("input")
        inputs = [value] if isinstance(value, str) else list(value or [])
        dims = int(request.get("dimensions") or 8)
        data = []
        tokens = 0
        for index, item in enumerate(inputs):
            text = item if isinstance(item, str) else json.dumps(item)
            tokens += _count_tokens(text)
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
            vector = [((digest[i % len(digest)] / 255.0) * 2 - 1) for i in range(dims)]
            data.append({"object": "embedding", "index": index, "embedding": vector})
        await trio.sleep(behaviour.latency_ms / 1000)
        payload = {
            "object": "list",
            "data": data,
            "model": str(request.get("model") or "mock-embedding"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        await self._json(send, 200, payload)

    async def _responses(self, request: dict[str, Any], behaviour: Behaviour, receive: Receive, send: Send) -> None:
        value = request.get("input")
        if isinstance(value, str):
            prompt = value
        else:
            prompt = " ".join(_content_text(i.get("content")) for i in value or [] if isinstance(i, dict))
        model = str(request.get("model") or "mock-gpt")
        text = self._reply_text(prompt, behaviour)
        rid = f"resp_{behaviour.uid(24)}"
        mid = f"msg_{behaviour.uid(24)}"
        usage: dict[str, Any] = {
            "input_tokens": _count_tokens(prompt),
            "output_tokens": len(_words(text)),
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        }
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        item = {
            "id": mid,
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }

        def response(status: str, output: list[Any], with_usage: bool) -> dict[str, Any]:
            return {
                "id": rid,
                "object": "response",
                "created_at": behaviour.created,
                "status": status,
                "model": model,
                "output": output,
                "usage": usage if with_usage and behaviour.usage else None,
                "parallel_tool_calls": True,
                "tool_choice": "auto",
                "tools": [],
                "error": None,
                "incomplete_details": None,
                "instructions": None,
                "metadata": {},
                "temperature": 1.0,
                "top_p": 1.0,
                "text": {"format": {"type": "text"}},
            }

        if not request.get("stream"):
            await trio.sleep(behaviour.latency_ms / 1000)
            await self._json(send, 200, response("completed", [item], True))
            return
        seq = 0

        def event(kind: str, data: dict[str, Any]) -> bytes:
            nonlocal seq
            data = {"type": kind, "sequence_number": seq, **data}
            seq += 1
            return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()

        events = [
            event("response.created", {"response": response("in_progress", [], False)}),
            event(
                "response.output_item.added",
                {"output_index": 0, "item": {**item, "status": "in_progress", "content": []}},
            ),
        ]
        events.extend(
            event(
                "response.output_text.delta",
                {"item_id": mid, "output_index": 0, "content_index": 0, "delta": word, "logprobs": []},
            )
            for word in behaviour.pieces(text)
        )
        events.append(
            event(
                "response.output_text.done",
                {"item_id": mid, "output_index": 0, "content_index": 0, "text": text, "logprobs": []},
            )
        )
        events.append(event("response.output_item.done", {"output_index": 0, "item": item}))
        events.append(event("response.completed", {"response": response("completed", [item], True)}))
        await self._stream(receive, send, events, behaviour)

    async def _messages(self, request: dict[str, Any], behaviour: Behaviour, receive: Receive, send: Send) -> None:
        messages = request.get("messages") or []
        prompt = "\n".join(_content_text(m.get("content")) for m in messages if isinstance(m, dict))
        model = str(request.get("model") or "mock-claude")
        tools = request.get("tools") or []
        last = messages[-1] if messages else {}
        has_result = (
            isinstance(last, dict)
            and isinstance(last.get("content"), list)
            and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in last["content"])
        )
        wants_tool = bool(tools) and not has_result
        text = "" if wants_tool else self._reply_text(prompt, behaviour)
        mid = f"msg_{behaviour.uid(24)}"
        input_tokens = _count_tokens(prompt)
        output_tokens = 10 if wants_tool else len(_words(text))
        content: list[dict[str, Any]] = []
        if wants_tool:
            tool = tools[0]
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{behaviour.uid(20)}",
                    "name": tool.get("name", "tool"),
                    "input": self._tool_arguments(tool),
                }
            )
        else:
            content.append({"type": "text", "text": text})
        stop = "tool_use" if wants_tool else "end_turn"
        usage = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        if not request.get("stream"):
            await trio.sleep(behaviour.latency_ms / 1000)
            payload = {
                "id": mid,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": usage,
            }
            await self._json(send, 200, payload)
            return

        def event(kind: str, data: dict[str, Any]) -> bytes:
            return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()

        start_usage = {**usage, "output_tokens": 1}
        events = [
            event(
                "message_start",
                {
                    "message": {
                        "id": mid,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": start_usage,
                    }
                },
            )
        ]
        if wants_tool:
            block = content[0]
            events.append(event("content_block_start", {"index": 0, "content_block": {**block, "input": {}}}))
            args = json.dumps(block["input"])
            for i in range(0, len(args), 8):
                events.append(
                    event(
                        "content_block_delta",
                        {"index": 0, "delta": {"type": "input_json_delta", "partial_json": args[i : i + 8]}},
                    )
                )
        else:
            events.append(event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}))
            events.append(event("ping", {}))
            events.extend(
                event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": word}})
                for word in behaviour.pieces(text)
            )
        events.append(event("content_block_stop", {"index": 0}))
        events.append(
            event(
                "message_delta",
                {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": output_tokens}},
            )
        )
        events.append(event("message_stop", {}))
        await self._stream(receive, send, events, behaviour)


class BrokenStream(Exception):
    """Raised mid-stream on purpose: the server then aborts the connection."""


def _gzipping(send: Send) -> Send:
    """Wrap ``send`` so that the response body goes out gzipped, in one piece, labelled Content-Encoding: gzip."""
    start: dict[str, Any] = {}
    parts: list[bytes] = []

    async def gzip_send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        parts.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = gzip.compress(b"".join(parts))
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers += [(b"content-encoding", b"gzip"), (b"content-length", str(len(body)).encode())]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return gzip_send


async def serve(
    settings: MockSettings,
    host: str,
    port: int,
    *,
    shutdown: trio.Event | None = None,
    backlog: int = 4096,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    config = hypercorn.Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    config.keep_alive_timeout = 75
    config.graceful_timeout = 1
    config.backlog = backlog
    trigger = shutdown.wait if shutdown is not None else None
    await hypercorn.trio.serve(
        cast(Any, MockUpstream(settings)), config, shutdown_trigger=trigger, task_status=task_status
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmtrace-mock-upstream", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--ttft-ms", type=float, default=0.0)
    parser.add_argument("--inter-token-ms", type=float, default=0.0)
    parser.add_argument("--error-status", type=int, default=500)
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of requests answered with an error")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    settings = MockSettings(
        latency_ms=args.latency_ms,
        ttft_ms=args.ttft_ms,
        inter_token_ms=args.inter_token_ms,
        error_status=args.error_status,
        error_rate=args.error_rate,
        seed=args.seed,
    )
    print(f"llmtrace-mock-upstream listening on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    try:
        trio.run(serve, settings, args.host, args.port)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
