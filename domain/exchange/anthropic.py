"""Anthropic messages (``/v1/messages``).

Non-streaming: ``type: "message"`` with ``content[]`` blocks (``text``, ``tool_use``, ``server_tool_use``); usage
splits uncached input, cache reads and cache writes (``prompt_tokens`` is their sum). Streaming: ``message_*`` and
``content_block_*`` events, ``ping`` and ``error``. Early stop: the notice as a text delta, the open block stopped,
``message_delta`` with ``stop_reason: "refusal"``, then ``message_stop``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from domain.exchange.model import ResponseSummary, ToolCall, Usage, int_or_none
from domain.exchange.sse import named_event
from domain.providers import Provider

if TYPE_CHECKING:
    from domain.exchange.stream import StreamAccumulator

NAME = "anthropic"
STREAM_KINDS = ("anthropic",)


def usage_of(usage: Mapping[str, Any], base: Usage | None = None) -> Usage:
    """Anthropic reports uncached input, cache reads and cache writes separately; prompt_tokens is their sum."""
    base = base or Usage()
    uncached = int_or_none(usage.get("input_tokens"))
    cache_read = int_or_none(usage.get("cache_read_input_tokens"))
    cache_write = int_or_none(usage.get("cache_creation_input_tokens"))
    output = int_or_none(usage.get("output_tokens"))
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


def reads(data: Mapping[str, Any], provider: Provider) -> bool:
    kind = data.get("type")
    return (kind == "message" and isinstance(data.get("content"), list)) or (
        kind == "error" and isinstance(data.get("error"), Mapping)
    )


def read(data: Mapping[str, Any], raw_text: str, model: str | None, error_message: str | None) -> ResponseSummary:
    if data.get("type") == "error":
        return ResponseSummary(text=raw_text, usage=Usage(), error_message=error_message)
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
    usage = usage_of(data.get("usage") or {})
    return ResponseSummary(text="".join(texts), usage=usage, tool_calls=tuple(calls), model=model)


def owns_event(kind: str) -> bool:
    return kind.startswith(("message_", "content_block_")) or kind in ("ping", "error")


def on_event(acc: StreamAccumulator, kind: str, data: Mapping[str, Any], deltas: list[str]) -> None:
    acc.kind = "anthropic"
    if kind == "content_block_start":
        acc.open_block = int(data.get("index", 0) or 0)
    elif kind == "content_block_stop":
        acc.open_block = None
    if kind == "message_start":
        message = data.get("message") or {}
        if isinstance(message.get("model"), str):
            acc.model = message["model"]
        if isinstance(message.get("usage"), Mapping):
            acc.report_usage(usage_of(message["usage"], acc.usage))
    elif kind == "content_block_start":
        block = data.get("content_block") or {}
        if block.get("type") in ("tool_use", "server_tool_use"):
            partial = acc.tool_call(str(data.get("index", 0)))
            partial.call_id = str(block.get("id") or "")
            partial.name = str(block.get("name") or "")
            partial.tool_type = "tool_use"
        elif block.get("type") == "text" and block.get("text"):
            acc.add_text(str(block["text"]), deltas)
    elif kind == "content_block_delta":
        delta = data.get("delta") or {}
        if delta.get("type") == "text_delta":
            acc.add_text(str(delta.get("text") or ""), deltas)
        elif delta.get("type") == "input_json_delta":
            acc.tool_call(str(data.get("index", 0))).arguments.append(str(delta.get("partial_json") or ""))
    elif kind == "message_delta":
        if isinstance(data.get("usage"), Mapping):
            acc.report_usage(usage_of(data["usage"], acc.usage))
    elif kind == "message_stop":
        acc.done = True
    elif kind == "error":
        error = data.get("error") or {}
        acc.error_message = str(error.get("message") or error.get("type") or "stream error")


def terminate(acc: StreamAccumulator, notice: str) -> bytes:
    out = b""
    index = acc.open_block
    if index is None:
        index = 0 if not acc.delta_count and not acc.tool_call_count else 99
        out += named_event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
    out += named_event("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": notice}})
    out += named_event("content_block_stop", {"index": index})
    usage = {"output_tokens": acc.delta_count + 1}
    out += named_event("message_delta", {"delta": {"stop_reason": "refusal", "stop_sequence": None}, "usage": usage})
    return out + named_event("message_stop", {})
