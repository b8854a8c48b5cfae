"""Shared pieces of SSE output: encoding an event, for the dialects that end a stream early."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def data_event(payload: Mapping[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def named_event(name: str, payload: Mapping[str, Any]) -> bytes:
    """``event: name`` plus data carrying ``type: name``, as Anthropic and the Responses API stream."""
    return f"event: {name}\n".encode() + data_event({"type": name, **payload})
