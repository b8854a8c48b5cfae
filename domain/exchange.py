"""Understanding one proxied exchange: what was asked (request) and what came back (response or SSE stream).

Pure functions over bytes; nothing here does I/O. OpenAI chat completions, completions, embeddings and the
Responses API, Anthropic messages and Ollama are understood, streaming and not. Array (multimodal) and null
message content never break parsing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from domain.json_text import clean_text, loads, parse_json
from domain.providers import Provider


@attrs.frozen(kw_only=True)
class RequestSummary:
    model: str
    prompt_text: str  # "role: content" lines, as stored on the span
    analysis_text: str  # contents only, as analysed (no role prefixes to trip detectors)
    stream: bool
    operation_name: str
    parsed: bool  # False when the body was not JSON we understand
    pruned: bool = False  # parts nested deeper than the limit were dropped before reading
    max_output_tokens: int | None = None  # max_completion_tokens / max_tokens / max_output_tokens, if asked


@attrs.frozen(kw_only=True)
class ToolCall:
    call_id: str
    name: str
    arguments: str
    tool_type: str = "function"
    legacy_function_call: bool = False


@attrs.frozen(kw_only=True)
class Usage:
    """Token usage normalised across providers.

    ``prompt_tokens`` includes cached input; ``completion_tokens`` includes reasoning tokens.
    """

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cached_prompt_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0


@attrs.frozen(kw_only=True)
class ResponseSummary:
    text: str
    usage: Usage
    tool_calls: tuple[ToolCall, ...] = ()
    model: str | None = None
    delta_count: int = 0
    error_message: str | None = None


# ---------------------------------------------------------------------------------------------------------------
# Requests


def _text_of_content(content: Any) -> str:
    """Flatten a message's content: a string, null, or an array of parts (text, image, tool result...)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping):
                kind = part.get("type")
                if isinstance(part.get("text"), str):
                    parts.append(part["text"])
                elif kind == "tool_result":
                    parts.append(_text_of_content(part.get("content")))
                elif kind in ("image_url", "image", "input_image"):
                    parts.append("[image]")
                elif kind in ("input_audio", "audio"):
                    parts.append("[audio]")
                elif kind in ("file", "input_file", "document"):
                    parts.append("[file]")
        return "\n".join(p for p in parts if p)
    if isinstance(content, Mapping) and isinstance(content.get("text"), str):
        return str(content["text"])
    return ""


def _flatten_messages(messages: Iterable[Any], system: Any = None) -> tuple[str, str]:
    prompt_lines: list[str] = []
    analysis_lines: list[str] = []
    system_text = _text_of_content(system)
    if system_text:
        prompt_lines.append(f"system: {system_text}")
        analysis_lines.append(system_text)
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        role = str(message.get("role") or message.get("type") or "user")
        text = _text_of_content(message.get("content"))
        if not text and message.get("type") == "function_call_output":
            text = str(message.get("output") or "")
        if not text:
            continue
        prompt_lines.append(f"{role}: {text}")
        analysis_lines.append(text)
    return "\n".join(prompt_lines), "\n".join(analysis_lines)


def _flatten_inputs(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(v for v in value if isinstance(v, str))
    return ""


def operation_for(path: str, stream: bool) -> str:
    route = path.split("?", 1)[0].rstrip("/")
    if route.endswith("/chat/completions") or route == "/api/chat":
        base = "chat_completion"
    elif route.endswith("/completions") or route == "/api/generate":
        base = "completion"
    elif route.endswith("/embeddings") or route == "/api/embeddings":
        return "embedding"
    elif route.endswith("/messages"):
        base = "messages"
    elif route.endswith("/responses"):
        base = "responses"
    else:
        return "proxy_request"
    return f"{base}_stream" if stream else base


def _raw_text(body: bytes) -> str:
    """A body we could not read as a request: analysed as the text it is, so malformed JSON hides nothing."""
    if not body:
        return ""
    try:
        return clean_text(body.decode("utf-8"))
    except UnicodeDecodeError:
        return f"[binary body: {len(body)} bytes]"


def summarize_request(path: str, body: bytes) -> RequestSummary:
    """Best-effort reading of a request body; never raises."""
    pruned = False
    try:
        parsed = parse_json(body) if body else None
        data, pruned = (parsed.value, parsed.pruned) if parsed is not None else (None, False)
    except ValueError:  # UnicodeDecodeError is a ValueError
        data = None
    if not isinstance(data, Mapping):
        raw = _raw_text(body)
        return RequestSummary(
            model="",
            prompt_text=raw,
            analysis_text=raw,
            stream=False,
            operation_name=operation_for(path, False),
            parsed=False,
        )
    stream = data.get("stream") is True
    model = data.get("model")
    model_name = model if isinstance(model, str) else ""
    prompt_text = analysis_text = ""
    messages = data.get("messages")
    if isinstance(messages, list):
        prompt_text, analysis_text = _flatten_messages(messages, data.get("system"))
    elif "input" in data:  # Responses API or embeddings
        value = data["input"]
        if isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
            prompt_text, analysis_text = _flatten_messages(value, data.get("instructions"))
        else:
            text = _flatten_inputs(value)
            instructions = _text_of_content(data.get("instructions"))
            analysis_text = "\n".join(t for t in (instructions, text) if t)
            prompt_text = analysis_text
    elif "prompt" in data:
        prompt_text = analysis_text = _flatten_inputs(data["prompt"])
    limit = next(
        (
            v
            for k in ("max_completion_tokens", "max_tokens", "max_output_tokens")
            if (v := _int(data.get(k))) is not None
        ),
        None,
    )
    return RequestSummary(
        model=model_name,
        prompt_text=prompt_text,
        analysis_text=analysis_text,
        stream=stream,
        operation_name=operation_for(path, stream),
        parsed=True,
        pruned=pruned,
        max_output_tokens=limit,
    )


# ---------------------------------------------------------------------------------------------------------------
# Non-streaming responses


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _usage_openai(usage: Mapping[str, Any]) -> Usage:
    prompt = _int(usage.get("prompt_tokens"))
    completion = _int(usage.get("completion_tokens"))
    if prompt is None and "input_tokens" in usage:  # Responses API
        prompt = _int(usage.get("input_tokens"))
        completion = _int(usage.get("output_tokens"))
    details_in = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
    details_out = usage.get("completion_tokens_details") or usage.get("output_tokens_details") or {}
    total = _int(usage.get("total_tokens"))
    if total is None and prompt is not None:
        total = prompt + (completion or 0)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cached_prompt_tokens=_int(details_in.get("cached_tokens")) or 0 if isinstance(details_in, Mapping) else 0,
        reasoning_tokens=_int(details_out.get("reasoning_tokens")) or 0 if isinstance(details_out, Mapping) else 0,
    )


def _usage_anthropic(usage: Mapping[str, Any], base: Usage | None = None) -> Usage:
    """Anthropic reports uncached input, cache reads and cache writes separately; prompt_tokens is their sum."""
    base = base or Usage()
    uncached = _int(usage.get("input_tokens"))
    cache_read = _int(usage.get("cache_read_input_tokens"))
    cache_write = _int(usage.get("cache_creation_input_tokens"))
    output = _int(usage.get("output_tokens"))
    cached = cache_read if cache_read is not None else base.cached_prompt_tokens
    written = cache_write if cache_write is not None else base.cache_write_tokens
    if uncached is not None:
        prompt: int | None = uncached + cached + written
    else:
        prompt = base.prompt_tokens
    completion = output if output is not None else base.completion_tokens
    total = None if prompt is None and completion is None else (prompt or 0) + (completion or 0)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cached_prompt_tokens=cached,
        cache_write_tokens=written,
    )


def _tool_calls_openai(message: Mapping[str, Any]) -> list[ToolCall]:
    calls: list[ToolCall] = []
    for call in message.get("tool_calls") or []:
        if not isinstance(call, Mapping):
            continue
        function = call.get("function") or {}
        calls.append(
            ToolCall(
                call_id=str(call.get("id") or ""),
                name=str(function.get("name") or ""),
                arguments=str(function.get("arguments") or ""),
                tool_type=str(call.get("type") or "function"),
            )
        )
    legacy = message.get("function_call")
    if isinstance(legacy, Mapping):
        calls.append(
            ToolCall(
                call_id="",
                name=str(legacy.get("name") or ""),
                arguments=str(legacy.get("arguments") or ""),
                legacy_function_call=True,
            )
        )
    return calls


def summarize_response(provider: Provider, body: bytes) -> ResponseSummary:
    """Read a non-streaming JSON response. Unknown shapes keep the raw body as the response text."""
    raw_text = body.decode("utf-8", errors="replace")
    try:
        data = loads(body) if body else None
    except ValueError:
        data = None
    if not isinstance(data, Mapping):
        return ResponseSummary(text=raw_text, usage=Usage())
    model = data.get("model") if isinstance(data.get("model"), str) else None
    error = data.get("error")
    error_message = None
    if isinstance(error, Mapping):
        error_message = str(error.get("message") or error.get("type") or "")
    elif isinstance(error, str):
        error_message = error

    # Anthropic messages
    if data.get("type") == "message" and isinstance(data.get("content"), list):
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in data["content"]:
            if not isinstance(block, Mapping):
                continue
            if block.get("type") == "text":
                texts.append(str(block.get("text") or ""))
            elif block.get("type") in ("tool_use", "server_tool_use"):
                calls.append(
                    ToolCall(
                        call_id=str(block.get("id") or ""),
                        name=str(block.get("name") or ""),
                        arguments=json.dumps(block.get("input") or {}, separators=(",", ":")),
                        tool_type="tool_use",
                    )
                )
        usage = _usage_anthropic(data.get("usage") or {})
        return ResponseSummary(text="".join(texts), usage=usage, tool_calls=tuple(calls), model=model)
    if data.get("type") == "error" and isinstance(error, Mapping):
        return ResponseSummary(text=raw_text, usage=Usage(), error_message=error_message)

    # OpenAI Responses API
    if data.get("object") == "response" and isinstance(data.get("output"), list):
        texts = []
        calls = []
        for item in data["output"]:
            if not isinstance(item, Mapping):
                continue
            if item.get("type") == "message":
                for part in item.get("content") or []:
                    if isinstance(part, Mapping) and part.get("type") == "output_text":
                        texts.append(str(part.get("text") or ""))
            elif item.get("type") == "function_call":
                calls.append(
                    ToolCall(
                        call_id=str(item.get("call_id") or item.get("id") or ""),
                        name=str(item.get("name") or ""),
                        arguments=str(item.get("arguments") or ""),
                    )
                )
        usage_data = data.get("usage")
        usage = _usage_openai(usage_data) if isinstance(usage_data, Mapping) else Usage()
        return ResponseSummary(text="".join(texts), usage=usage, tool_calls=tuple(calls), model=model)

    usage_data = data.get("usage")
    # OpenAI-compatible chat / completions / embeddings
    if isinstance(data.get("choices"), list) or data.get("object") == "list":
        usage = _usage_openai(usage_data) if isinstance(usage_data, Mapping) else Usage()
        choices = data.get("choices") or []
        text = ""
        calls = []
        if choices and isinstance(choices[0], Mapping):
            first = choices[0]
            message = first.get("message")
            if isinstance(message, Mapping):
                text = _text_of_content(message.get("content"))
                for choice in choices:
                    if isinstance(choice, Mapping) and isinstance(choice.get("message"), Mapping):
                        calls.extend(_tool_calls_openai(choice["message"]))
            elif isinstance(first.get("text"), str):
                text = first["text"]
        elif data.get("object") == "list":
            count = len(data.get("data") or [])
            text = f"[{count} embedding{'s' if count != 1 else ''}]"
        return ResponseSummary(text=text, usage=usage, tool_calls=tuple(calls), model=model)

    # Ollama
    if provider is Provider.OLLAMA or "eval_count" in data:
        message = data.get("message")
        text = _text_of_content(message.get("content")) if isinstance(message, Mapping) else ""
        if not text and isinstance(data.get("response"), str):
            text = data["response"]
        prompt = _int(data.get("prompt_eval_count"))
        completion = _int(data.get("eval_count"))
        total = None if prompt is None and completion is None else (prompt or 0) + (completion or 0)
        return ResponseSummary(
            text=text,
            usage=Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total),
            model=model,
        )
    return ResponseSummary(text=raw_text, usage=Usage(), model=model, error_message=error_message)


# ---------------------------------------------------------------------------------------------------------------
# Streaming responses


@attrs.define
class _PartialToolCall:
    call_id: str = ""
    name: str = ""
    arguments: list[str] = attrs.field(factory=list)
    tool_type: str = "function"


@attrs.define
class StreamAccumulator:
    """Incremental SSE parser for OpenAI (chat, completions, Responses API) and Anthropic message streams.

    ``feed`` takes raw bytes as they arrive (lines may be split anywhere) and returns the text deltas it found, in
    order, so inline analysis can look at them. ``summary()`` reassembles the whole response.
    """

    _buffer: bytes = b""
    _event_name: str = ""
    _data_lines: list[str] = attrs.field(factory=list)
    _texts: list[str] = attrs.field(factory=list)
    _tool_calls: dict[str, _PartialToolCall] = attrs.field(factory=dict)
    _usage: Usage = attrs.field(factory=Usage)
    _usage_reported: bool = False
    model: str | None = None
    delta_count: int = 0
    done: bool = False
    error_message: str | None = None
    stream_id: str | None = None
    created: int | None = None
    open_block: int | None = None  # Anthropic: index of the content block being streamed
    kind: str | None = None  # "openai_chat" | "openai_completion" | "anthropic" | "responses"

    def feed(self, chunk: bytes) -> list[str]:
        self._buffer += chunk
        deltas: list[str] = []
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                break
            line = self._buffer[:newline].rstrip(b"\r").decode("utf-8", errors="replace")
            self._buffer = self._buffer[newline + 1 :]
            if line == "":
                self._dispatch(deltas)
            elif line.startswith(":"):
                continue
            else:
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    self._event_name = value
                elif field == "data":
                    self._data_lines.append(value)
        return deltas

    def finish(self) -> list[str]:
        """End of stream: a last event without its blank line still counts."""
        deltas: list[str] = []
        if self._buffer:
            self.feed(b"\n")
        self._dispatch(deltas)
        return deltas

    def _dispatch(self, deltas: list[str]) -> None:
        if not self._data_lines:
            self._event_name = ""
            return
        data_text = "\n".join(self._data_lines)
        event_name = self._event_name
        self._data_lines = []
        self._event_name = ""
        if data_text.strip() == "[DONE]":
            self.done = True
            return
        try:
            data = loads(data_text)
        except ValueError:
            return
        if not isinstance(data, Mapping):
            return
        kind = str(data.get("type") or event_name or "")
        if kind.startswith(("message_", "content_block_")) or kind in ("ping", "error"):
            self._anthropic(kind, data, deltas)
        elif kind.startswith("response."):
            self._responses(kind, data, deltas)
        else:
            self._openai_chunk(data, deltas)

    def _add_text(self, text: str, deltas: list[str]) -> None:
        if text:
            self._texts.append(text)
            self.delta_count += 1
            deltas.append(text)

    def _openai_chunk(self, data: Mapping[str, Any], deltas: list[str]) -> None:
        if isinstance(data.get("model"), str):
            self.model = data["model"]
        if isinstance(data.get("id"), str):
            self.stream_id = data["id"]
        if isinstance(data.get("created"), int):
            self.created = data["created"]
        if self.kind is None and data.get("object") in ("chat.completion.chunk", "text_completion"):
            self.kind = "openai_chat" if data["object"] == "chat.completion.chunk" else "openai_completion"
        if isinstance(data.get("error"), Mapping):
            self.error_message = str(data["error"].get("message") or "stream error")
        for choice in data.get("choices") or []:
            if not isinstance(choice, Mapping):
                continue
            delta = choice.get("delta")
            if isinstance(delta, Mapping):
                self._add_text(_text_of_content(delta.get("content")), deltas)
                for call in delta.get("tool_calls") or []:
                    if not isinstance(call, Mapping):
                        continue
                    key = str(call.get("index", len(self._tool_calls)))
                    partial = self._tool_calls.setdefault(key, _PartialToolCall())
                    if call.get("id"):
                        partial.call_id = str(call["id"])
                    if call.get("type"):
                        partial.tool_type = str(call["type"])
                    function = call.get("function") or {}
                    if function.get("name"):
                        partial.name += str(function["name"])
                    if function.get("arguments"):
                        partial.arguments.append(str(function["arguments"]))
            elif isinstance(choice.get("text"), str):  # legacy completions
                self._add_text(choice["text"], deltas)
        usage = data.get("usage")
        if isinstance(usage, Mapping):
            self._usage = _usage_openai(usage)
            self._usage_reported = True

    def _anthropic(self, kind: str, data: Mapping[str, Any], deltas: list[str]) -> None:
        self.kind = "anthropic"
        if kind == "content_block_start":
            self.open_block = int(data.get("index", 0) or 0)
        elif kind == "content_block_stop":
            self.open_block = None
        if kind == "message_start":
            message = data.get("message") or {}
            if isinstance(message.get("model"), str):
                self.model = message["model"]
            if isinstance(message.get("usage"), Mapping):
                self._usage = _usage_anthropic(message["usage"], self._usage)
                self._usage_reported = True
        elif kind == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") in ("tool_use", "server_tool_use"):
                partial = self._tool_calls.setdefault(str(data.get("index", 0)), _PartialToolCall())
                partial.call_id = str(block.get("id") or "")
                partial.name = str(block.get("name") or "")
                partial.tool_type = "tool_use"
            elif block.get("type") == "text" and block.get("text"):
                self._add_text(str(block["text"]), deltas)
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta":
                self._add_text(str(delta.get("text") or ""), deltas)
            elif delta.get("type") == "input_json_delta":
                partial = self._tool_calls.setdefault(str(data.get("index", 0)), _PartialToolCall())
                partial.arguments.append(str(delta.get("partial_json") or ""))
        elif kind == "message_delta":
            if isinstance(data.get("usage"), Mapping):
                self._usage = _usage_anthropic(data["usage"], self._usage)
                self._usage_reported = True
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            error = data.get("error") or {}
            self.error_message = str(error.get("message") or error.get("type") or "stream error")

    def _responses(self, kind: str, data: Mapping[str, Any], deltas: list[str]) -> None:
        self.kind = "responses"
        if kind == "response.output_text.delta":
            self._add_text(str(data.get("delta") or ""), deltas)
        elif kind == "response.output_item.added":
            item = data.get("item") or {}
            if item.get("type") == "function_call":
                partial = self._tool_calls.setdefault(str(data.get("output_index", 0)), _PartialToolCall())
                partial.call_id = str(item.get("call_id") or item.get("id") or "")
                partial.name = str(item.get("name") or "")
        elif kind == "response.function_call_arguments.delta":
            partial = self._tool_calls.setdefault(str(data.get("output_index", 0)), _PartialToolCall())
            partial.arguments.append(str(data.get("delta") or ""))
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            response = data.get("response") or {}
            if isinstance(response.get("model"), str):
                self.model = response["model"]
            if isinstance(response.get("usage"), Mapping):
                self._usage = _usage_openai(response["usage"])
                self._usage_reported = True
            if kind == "response.failed":
                error = response.get("error") or {}
                self.error_message = str(error.get("message") or "response failed")
            self.done = True
        elif kind == "response.created":
            response = data.get("response") or {}
            if isinstance(response.get("model"), str):
                self.model = response["model"]

    @property
    def usage_reported(self) -> bool:
        return self._usage_reported

    @property
    def text(self) -> str:
        return "".join(self._texts)

    def summary(self) -> ResponseSummary:
        calls = tuple(
            ToolCall(
                call_id=p.call_id,
                name=p.name,
                arguments="".join(p.arguments),
                tool_type=p.tool_type,
            )
            for p in self._tool_calls.values()
        )
        return ResponseSummary(
            text=self.text,
            usage=self._usage,
            tool_calls=calls,
            model=self.model,
            delta_count=self.delta_count,
            error_message=self.error_message,
        )


STOP_NOTICE = "\n\n[LLMTrace: Response terminated — critical safety issue detected in output]"


def termination_events(accumulator: StreamAccumulator, notice: str = STOP_NOTICE) -> bytes:
    """The SSE events that end a stream early so the official SDKs finish cleanly.

    OpenAI chat/completions: a final chunk with ``finish_reason: "content_filter"`` then ``[DONE]``. Anthropic: the
    notice as a text delta, the open block stopped, ``message_delta`` with ``stop_reason: "refusal"``,
    ``message_stop``. Responses API: ``response.incomplete`` with reason ``content_filter``.
    """

    def data(payload: Mapping[str, Any]) -> bytes:
        return b"data: " + json.dumps(payload).encode() + b"\n\n"

    def event(name: str, payload: Mapping[str, Any]) -> bytes:
        return f"event: {name}\n".encode() + data({"type": name, **payload})

    if accumulator.kind == "anthropic":
        out = b""
        index = accumulator.open_block
        if index is None:
            index = 0 if not accumulator.delta_count and not accumulator.summary().tool_calls else 99
            out += event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
        out += event("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": notice}})
        out += event("content_block_stop", {"index": index})
        usage = {"output_tokens": accumulator.delta_count + 1}
        out += event("message_delta", {"delta": {"stop_reason": "refusal", "stop_sequence": None}, "usage": usage})
        return out + event("message_stop", {})
    if accumulator.kind == "responses":
        response: dict[str, Any] = {
            "object": "response",
            "status": "incomplete",
            "model": accumulator.model,
            "incomplete_details": {"reason": "content_filter"},
            "output": [],
        }
        return event("response.incomplete", {"response": response})
    base: dict[str, Any] = {
        "id": accumulator.stream_id or "llmtrace-stop",
        "created": accumulator.created or 0,
        "model": accumulator.model or "",
    }
    if accumulator.kind == "openai_completion":
        choice: dict[str, Any] = {"index": 0, "text": notice, "logprobs": None, "finish_reason": "content_filter"}
        return data({**base, "object": "text_completion", "choices": [choice]}) + b"data: [DONE]\n\n"
    choice = {"index": 0, "delta": {"content": notice}, "logprobs": None, "finish_reason": "content_filter"}
    return data({**base, "object": "chat.completion.chunk", "choices": [choice]}) + b"data: [DONE]\n\n"


def estimate_tokens(text: str) -> int:
    """A provider-free estimate (about four characters a token) for when usage is not reported."""
    return math.ceil(len(text) / 4) if text else 0


def flatten_messages(messages: Iterable[Any], system: Any = None) -> tuple[str, str]:
    """(prompt text with "role: " prefixes, analysis text without them) for a list of chat messages."""
    return _flatten_messages(messages, system)


def requested_tokens(path: str, body: bytes) -> tuple[int, int | None]:
    """(estimated prompt tokens, the completion tokens the request asks for at most, if it says) for token caps."""
    summary = summarize_request(path, body)
    return estimate_tokens(summary.analysis_text), summary.max_output_tokens
