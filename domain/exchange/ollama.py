"""Ollama's native API (``/api/chat``, ``/api/generate``): ``message.content`` or ``response``, with
``prompt_eval_count`` / ``eval_count`` as token usage. Its streams are JSON lines, not SSE: captured, not parsed
as events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.exchange.model import ResponseSummary, Usage, int_or_none, text_of_content
from domain.providers import Provider

NAME = "ollama"


def reads(data: Mapping[str, Any], provider: Provider) -> bool:
    return provider is Provider.OLLAMA or "eval_count" in data


def read(data: Mapping[str, Any], raw_text: str, model: str | None, error_message: str | None) -> ResponseSummary:
    message = data.get("message")
    text = text_of_content(message.get("content")) if isinstance(message, Mapping) else ""
    if not text and isinstance(data.get("response"), str):
        text = data["response"]
    prompt = int_or_none(data.get("prompt_eval_count"))
    completion = int_or_none(data.get("eval_count"))
    total = None if prompt is None and completion is None else (prompt or 0) + (completion or 0)
    return ResponseSummary(
        text=text, usage=Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total), model=model
    )
