"""OpenAI-compatible chat completions, legacy completions and embeddings (also vLLM, LiteLLM, Azure, Ollama's /v1).

Non-streaming: ``choices[].message`` (text, ``tool_calls``, legacy ``function_call``) or ``choices[].text``; an
embeddings list becomes "[N embeddings]". Streaming: ``chat.completion.chunk`` / ``text_completion`` chunks with
``delta`` text and tool-call fragments; usage in the last chunk when the client asked for it. Early stop: a final
chunk with ``finish_reason: "content_filter"``, then ``[DONE]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from domain.exchange.model import ResponseSummary, ToolCall, Usage, int_or_none, text_of_content
from domain.exchange.sse import data_event
from domain.providers import Provider

if TYPE_CHECKING:
    from domain.exchange.stream import StreamAccumulator

NAME = "openai"
STREAM_KINDS = ("openai_chat", "openai_completion", None)  # None: nothing told the kind yet (treated as chat)


def usage_of(usage: Mapping[str, Any]) -> Usage:
    prompt = int_or_none(usage.get("prompt_tokens"))
    completion = int_or_none(usage.get("completion_tokens"))
    if prompt is None and "input_tokens" in usage:  # Responses API
        prompt = int_or_none(usage.get("input_tokens"))
        completion = int_or_none(usage.get("output_tokens"))
    details_in = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
    details_out = usage.get("completion_tokens_details") or usage.get("output_tokens_details") or {}
    total = int_or_none(usage.get("total_tokens"))
    if total is None and prompt is not None:
        total = prompt + (completion or 0)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cached_prompt_tokens=int_or_none(details_in.get("cached_tokens")) or 0
        if isinstance(details_in, Mapping)
        else 0,
        reasoning_tokens=int_or_none(details_out.get("reasoning_tokens")) or 0
        if isinstance(details_out, Mapping)
        else 0,
    )


def _tool_calls(message: Mapping[str, Any]) -> list[ToolCall]:
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


def reads(data: Mapping[str, Any], provider: Provider) -> bool:
    return isinstance(data.get("choices"), list) or data.get("object") == "list"


def read(data: Mapping[str, Any], raw_text: str, model: str | None, error_message: str | None) -> ResponseSummary:
    usage_data = data.get("usage")
    usage = usage_of(usage_data) if isinstance(usage_data, Mapping) else Usage()
    choices = data.get("choices") or []
    text = ""
    calls: list[ToolCall] = []
    if choices and isinstance(choices[0], Mapping):
        first = choices[0]
        message = first.get("message")
        if isinstance(message, Mapping):
            text = text_of_content(message.get("content"))
            for choice in choices:
                if isinstance(choice, Mapping) and isinstance(choice.get("message"), Mapping):
                    calls.extend(_tool_calls(choice["message"]))
        elif isinstance(first.get("text"), str):
            text = first["text"]
    elif data.get("object") == "list":
        count = len(data.get("data") or [])
        text = f"[{count} embedding{'s' if count != 1 else ''}]"
    return ResponseSummary(text=text, usage=usage, tool_calls=tuple(calls), model=model)


def owns_event(kind: str) -> bool:
    return True  # the fallback: chunks carry no event type


def on_event(acc: StreamAccumulator, kind: str, data: Mapping[str, Any], deltas: list[str]) -> None:
    if isinstance(data.get("model"), str):
        acc.model = data["model"]
    if isinstance(data.get("id"), str):
        acc.stream_id = data["id"]
    if isinstance(data.get("created"), int):
        acc.created = data["created"]
    if acc.kind is None and data.get("object") in ("chat.completion.chunk", "text_completion"):
        acc.kind = "openai_chat" if data["object"] == "chat.completion.chunk" else "openai_completion"
    if isinstance(data.get("error"), Mapping):
        acc.error_message = str(data["error"].get("message") or "stream error")
    for choice in data.get("choices") or []:
        if not isinstance(choice, Mapping):
            continue
        delta = choice.get("delta")
        if isinstance(delta, Mapping):
            acc.add_text(text_of_content(delta.get("content")), deltas)
            for call in delta.get("tool_calls") or []:
                if not isinstance(call, Mapping):
                    continue
                partial = acc.tool_call(str(call.get("index", acc.tool_call_count)))
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
            acc.add_text(choice["text"], deltas)
    usage = data.get("usage")
    if isinstance(usage, Mapping):
        acc.report_usage(usage_of(usage))


def terminate(acc: StreamAccumulator, notice: str) -> bytes:
    base: dict[str, Any] = {
        "id": acc.stream_id or "llmtrace-stop",
        "created": acc.created or 0,
        "model": acc.model or "",
    }
    if acc.kind == "openai_completion":
        choice: dict[str, Any] = {"index": 0, "text": notice, "logprobs": None, "finish_reason": "content_filter"}
        return data_event({**base, "object": "text_completion", "choices": [choice]}) + b"data: [DONE]\n\n"
    choice = {"index": 0, "delta": {"content": notice}, "logprobs": None, "finish_reason": "content_filter"}
    return data_event({**base, "object": "chat.completion.chunk", "choices": [choice]}) + b"data: [DONE]\n\n"
