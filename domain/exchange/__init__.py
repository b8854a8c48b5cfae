"""Understanding one proxied exchange: what was asked (request) and what came back (response or SSE stream).

Pure functions over bytes; nothing here does I/O. One module per provider dialect (``openai``: chat completions,
completions, embeddings; ``responses``: the OpenAI Responses API; ``anthropic``: messages; ``ollama``), chosen
through the table in ``dialects``; ``request`` reads request bodies (their shapes are shared), ``response`` and
``stream`` read responses. Array (multimodal) and null message content never break parsing.
"""

from domain.exchange.model import (
    RequestSummary,
    ResponseSummary,
    ToolCall,
    Usage,
    estimate_tokens,
    flatten_messages,
)
from domain.exchange.request import RequestReading, operation_for, requested_tokens, summarize_request
from domain.exchange.response import summarize_response
from domain.exchange.stream import STOP_NOTICE, StreamAccumulator, termination_events

__all__ = [
    "STOP_NOTICE",
    "RequestReading",
    "RequestSummary",
    "ResponseSummary",
    "StreamAccumulator",
    "ToolCall",
    "Usage",
    "estimate_tokens",
    "flatten_messages",
    "operation_for",
    "requested_tokens",
    "summarize_request",
    "summarize_response",
    "termination_events",
]
