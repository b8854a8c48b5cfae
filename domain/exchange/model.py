"""What an exchange is made of once understood, whatever the provider: the request read, the response read, token
usage and tool calls; plus the content helpers every dialect shares."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs


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
    end_user: str | None = None  # OpenAI ``user``, or ``metadata.user_id`` (Anthropic)
    metadata: Mapping[str, str] = attrs.field(factory=dict)  # the body's ``metadata``, values as text, bounded


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


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def text_of_content(content: Any) -> str:
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
                    parts.append(text_of_content(part.get("content")))
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


def flatten_messages(messages: Iterable[Any], system: Any = None) -> tuple[str, str]:
    """(prompt text with "role: " prefixes, analysis text without them) for a list of chat messages."""
    prompt_lines: list[str] = []
    analysis_lines: list[str] = []
    system_text = text_of_content(system)
    if system_text:
        prompt_lines.append(f"system: {system_text}")
        analysis_lines.append(system_text)
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        role = str(message.get("role") or message.get("type") or "user")
        text = text_of_content(message.get("content"))
        if not text and message.get("type") == "function_call_output":
            text = str(message.get("output") or "")
        if not text:
            continue
        prompt_lines.append(f"{role}: {text}")
        analysis_lines.append(text)
    return "\n".join(prompt_lines), "\n".join(analysis_lines)


def flatten_inputs(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(v for v in value if isinstance(v, str))
    return ""


def estimate_tokens(text: str) -> int:
    """A provider-free estimate (about four characters a token) for when usage is not reported."""
    return math.ceil(len(text) / 4) if text else 0
