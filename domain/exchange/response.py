"""Reading a non-streaming response body through the dialect table; unknown shapes keep the raw body as text."""

from __future__ import annotations

from collections.abc import Mapping

from domain.exchange.dialects import RESPONSE_DIALECTS
from domain.exchange.model import ResponseSummary, Usage
from domain.json_text import loads
from domain.providers import Provider


def summarize_response(provider: Provider, body: bytes) -> ResponseSummary:
    """Read a non-streaming JSON response; never raises."""
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
    for dialect in RESPONSE_DIALECTS:
        if dialect.reads(data, provider):
            return dialect.read(data, raw_text, model, error_message)
    return ResponseSummary(text=raw_text, usage=Usage(), model=model, error_message=error_message)
