"""Reading an SSE response as it streams, and ending one early: the framing is shared, the events belong to the
dialects (see ``dialects``)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from domain.exchange.dialects import stream_dialect_for_event, stream_dialect_for_kind
from domain.exchange.model import ResponseSummary, ToolCall, Usage
from domain.json_text import loads

STOP_NOTICE = "\n\n[LLMTrace: Response terminated — critical safety issue detected in output]"


@attrs.define
class PartialToolCall:
    call_id: str = ""
    name: str = ""
    arguments: list[str] = attrs.field(factory=list)
    tool_type: str = "function"


@attrs.define
class StreamAccumulator:
    """Incremental SSE parser for OpenAI (chat, completions, Responses API) and Anthropic message streams.

    ``feed`` takes raw bytes as they arrive (lines may be split anywhere) and returns the text deltas it found, in
    order, so inline analysis can look at them. ``summary()`` reassembles the whole response. The dialect that owns
    an event updates the accumulator through ``add_text``, ``tool_call`` and ``report_usage``.
    """

    _buffer: bytes = b""
    _event_name: str = ""
    _data_lines: list[str] = attrs.field(factory=list)
    _texts: list[str] = attrs.field(factory=list)
    _tool_calls: dict[str, PartialToolCall] = attrs.field(factory=dict)
    _usage: Usage = attrs.field(factory=Usage)
    model: str | None = None
    delta_count: int = 0
    done: bool = False
    error_message: str | None = None
    stream_id: str | None = None
    created: int | None = None
    open_block: int | None = None  # Anthropic: index of the content block being streamed
    kind: str | None = None  # "openai_chat" | "openai_completion" | "anthropic" | "responses"

    def feed(self, chunk: bytes) -> list[str]:
        self._buffer += chunk
        deltas: list[str] = []
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                break
            line = self._buffer[:newline].rstrip(b"\r").decode("utf-8", errors="replace")
            self._buffer = self._buffer[newline + 1 :]
            if line == "":
                self._dispatch(deltas)
            elif line.startswith(":"):
                continue
            else:
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    self._event_name = value
                elif field == "data":
                    self._data_lines.append(value)
        return deltas

    def finish(self) -> list[str]:
        """End of stream: a last event without its blank line still counts."""
        deltas: list[str] = []
        if self._buffer:
            self.feed(b"\n")
        self._dispatch(deltas)
        return deltas

    def _dispatch(self, deltas: list[str]) -> None:
        if not self._data_lines:
            self._event_name = ""
            return
        data_text = "\n".join(self._data_lines)
        event_name = self._event_name
        self._data_lines = []
        self._event_name = ""
        if data_text.strip() == "[DONE]":
            self.done = True
            return
        try:
            data = loads(data_text)
        except ValueError:
            return
        if not isinstance(data, Mapping):
            return
        kind = str(data.get("type") or event_name or "")
        stream_dialect_for_event(kind).on_event(self, kind, data, deltas)

    # -- what the dialects report ------------------------------------------------------------------------------
    def add_text(self, text: str, deltas: list[str]) -> None:
        if text:
            self._texts.append(text)
            self.delta_count += 1
            deltas.append(text)

    def tool_call(self, key: str) -> PartialToolCall:
        """The tool call being streamed under ``key`` (an index), created on first mention."""
        return self._tool_calls.setdefault(key, PartialToolCall())

    def report_usage(self, usage: Usage) -> None:
        self._usage = usage

    @property
    def usage(self) -> Usage:
        return self._usage

    @property
    def tool_call_count(self) -> int:
        return len(self._tool_calls)

    @property
    def text(self) -> str:
        return "".join(self._texts)

    def summary(self) -> ResponseSummary:
        calls = tuple(
            ToolCall(call_id=p.call_id, name=p.name, arguments="".join(p.arguments), tool_type=p.tool_type)
            for p in self._tool_calls.values()
        )
        return ResponseSummary(
            text=self.text,
            usage=self._usage,
            tool_calls=calls,
            model=self.model,
            delta_count=self.delta_count,
            error_message=self.error_message,
        )


def termination_events(accumulator: StreamAccumulator, notice: str = STOP_NOTICE) -> bytes:
    """The SSE events that end a stream early, in the stream's own dialect, so the official SDKs finish cleanly."""
    return stream_dialect_for_kind(accumulator.kind).terminate(accumulator, notice)
