"""Reading a request body, once per exchange: model, prompt, whether it streams, the operation, the token limit.

Request shapes are shared across dialects (``messages`` with an optional ``system``: chat completions, Anthropic
messages, Ollama chat; ``input`` with ``instructions``: Responses API and embeddings; ``prompt``: completions and
Ollama generate), so one reader serves them all. ``RequestReading`` parses lazily and at most once; the forwarder
hands it to token caps and enforcement and passes the result on to capture.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from domain.exchange.model import (
    RequestSummary,
    estimate_tokens,
    flatten_inputs,
    flatten_messages,
    int_or_none,
    text_of_content,
)
from domain.json_text import clean_text, parse_json


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
        prompt_text, analysis_text = flatten_messages(messages, data.get("system"))
    elif "input" in data:  # Responses API or embeddings
        value = data["input"]
        if isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
            prompt_text, analysis_text = flatten_messages(value, data.get("instructions"))
        else:
            text = flatten_inputs(value)
            instructions = text_of_content(data.get("instructions"))
            analysis_text = "\n".join(t for t in (instructions, text) if t)
            prompt_text = analysis_text
    elif "prompt" in data:
        prompt_text = analysis_text = flatten_inputs(data["prompt"])
    end_user, metadata = _who(data)
    limit = next(
        (
            v
            for k in ("max_completion_tokens", "max_tokens", "max_output_tokens")
            if (v := int_or_none(data.get(k))) is not None
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
        end_user=end_user,
        metadata=metadata,
    )


MAX_METADATA_KEYS = 32
MAX_METADATA_CHARS = 512


def _who(data: Mapping[str, object]) -> tuple[str | None, dict[str, str]]:
    """The end user and the request metadata a client put in the body (OpenAI ``user`` and ``metadata``, Anthropic
    ``metadata.user_id``), bounded: 32 keys, 512 characters each."""
    raw = data.get("metadata")
    metadata: dict[str, str] = {}
    if isinstance(raw, Mapping):
        for key, value in list(raw.items())[:MAX_METADATA_KEYS]:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            metadata[str(key)[:MAX_METADATA_CHARS]] = text[:MAX_METADATA_CHARS]
    user = data.get("user")
    if not isinstance(user, str) or not user:
        user = metadata.get("user_id") or None
    return (user[:MAX_METADATA_CHARS] if user else None), metadata


class RequestReading:
    """One request body, read at most once, by whoever needs it first (token caps, enforcement, capture)."""

    __slots__ = ("_summary", "body", "path")

    def __init__(self, path: str, body: bytes) -> None:
        self.path = path
        self.body = body
        self._summary: RequestSummary | None = None

    @property
    def read(self) -> bool:
        return self._summary is not None

    @property
    def summary(self) -> RequestSummary:
        if self._summary is None:
            self._summary = summarize_request(self.path, self.body)
        return self._summary

    @property
    def parsed_summary(self) -> RequestSummary | None:
        """The summary if someone has read the body already, else None (nothing is parsed to answer)."""
        return self._summary


def requested_tokens(summary: RequestSummary) -> tuple[int, int | None]:
    """(estimated prompt tokens, the completion tokens the request asks for at most, if it says) for token caps."""
    return estimate_tokens(summary.analysis_text), summary.max_output_tokens
