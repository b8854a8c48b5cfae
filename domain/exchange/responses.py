"""The OpenAI Responses API (``/v1/responses``).

Non-streaming: ``object: "response"`` with ``output[]`` items (``message`` parts of type ``output_text``,
``function_call`` items). Streaming: ``response.*`` events (``output_text.delta``, ``output_item.added``,
``function_call_arguments.delta``, ``completed`` / ``incomplete`` / ``failed`` with usage). Early stop:
``response.incomplete`` with reason ``content_filter``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from domain.exchange.model import ResponseSummary, ToolCall, Usage
from domain.exchange.openai import usage_of
from domain.exchange.sse import named_event
from domain.providers import Provider

if TYPE_CHECKING:
    from domain.exchange.stream import StreamAccumulator

NAME = "responses"
STREAM_KINDS = ("responses",)


def reads(data: Mapping[str, Any], provider: Provider) -> bool:
    return data.get("object") == "response" and isinstance(data.get("output"), list)


def read(data: Mapping[str, Any], raw_text: str, model: str | None, error_message: str | None) -> ResponseSummary:
    texts: list[str] = []
    calls: list[ToolCall] = []
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
    usage = usage_of(usage_data) if isinstance(usage_data, Mapping) else Usage()
    return ResponseSummary(text="".join(texts), usage=usage, tool_calls=tuple(calls), model=model)


def owns_event(kind: str) -> bool:
    return kind.startswith("response.")


def on_event(acc: StreamAccumulator, kind: str, data: Mapping[str, Any], deltas: list[str]) -> None:
    acc.kind = "responses"
    if kind == "response.output_text.delta":
        acc.add_text(str(data.get("delta") or ""), deltas)
    elif kind == "response.output_item.added":
        item = data.get("item") or {}
        if item.get("type") == "function_call":
            partial = acc.tool_call(str(data.get("output_index", 0)))
            partial.call_id = str(item.get("call_id") or item.get("id") or "")
            partial.name = str(item.get("name") or "")
    elif kind == "response.function_call_arguments.delta":
        acc.tool_call(str(data.get("output_index", 0))).arguments.append(str(data.get("delta") or ""))
    elif kind in ("response.completed", "response.incomplete", "response.failed"):
        response = data.get("response") or {}
        if isinstance(response.get("model"), str):
            acc.model = response["model"]
        if isinstance(response.get("usage"), Mapping):
            acc.report_usage(usage_of(response["usage"]))
        if kind == "response.failed":
            error = response.get("error") or {}
            acc.error_message = str(error.get("message") or "response failed")
        acc.done = True
    elif kind == "response.created":
        response = data.get("response") or {}
        if isinstance(response.get("model"), str):
            acc.model = response["model"]


def terminate(acc: StreamAccumulator, notice: str) -> bytes:
    response: dict[str, Any] = {
        "object": "response",
        "status": "incomplete",
        "model": acc.model,
        "incomplete_details": {"reason": "content_filter"},
        "output": [],
    }
    return named_event("response.incomplete", {"response": response})
