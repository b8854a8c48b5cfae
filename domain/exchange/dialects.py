"""The dispatch table of provider dialects. Adding a dialect: one module with the functions below, one line here.

A response dialect has ``reads(data, provider)`` and ``read(data, raw_text, model, error_message)``; a stream
dialect has ``owns_event(kind)``, ``on_event(accumulator, kind, data, deltas)``, ``STREAM_KINDS`` (the
accumulator kinds it ends) and ``terminate(accumulator, notice)``. Order matters: the first dialect that
recognises a body or an event reads it; OpenAI chat is the fallback for events that carry no type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from domain.exchange import anthropic, ollama, openai, responses
from domain.exchange.model import ResponseSummary
from domain.providers import Provider

if TYPE_CHECKING:
    from domain.exchange.stream import StreamAccumulator


@attrs.frozen
class ResponseDialect:
    name: str
    reads: Callable[[Mapping[str, Any], Provider], bool]
    read: Callable[[Mapping[str, Any], str, str | None, str | None], ResponseSummary]


@attrs.frozen
class StreamDialect:
    name: str
    owns_event: Callable[[str], bool]
    on_event: Callable[[StreamAccumulator, str, Mapping[str, Any], list[str]], None]
    kinds: tuple[str | None, ...]
    terminate: Callable[[StreamAccumulator, str], bytes]


RESPONSE_DIALECTS: tuple[ResponseDialect, ...] = tuple(
    ResponseDialect(module.NAME, module.reads, module.read) for module in (anthropic, responses, openai, ollama)
)

STREAM_DIALECTS: tuple[StreamDialect, ...] = tuple(
    StreamDialect(module.NAME, module.owns_event, module.on_event, module.STREAM_KINDS, module.terminate)
    for module in (anthropic, responses, openai)  # openai last: it takes any event the others do not claim
)


def stream_dialect_for_event(kind: str) -> StreamDialect:
    return next(d for d in STREAM_DIALECTS if d.owns_event(kind))


def stream_dialect_for_kind(kind: str | None) -> StreamDialect:
    return next((d for d in STREAM_DIALECTS if kind in d.kinds), STREAM_DIALECTS[-1])
