"""The storage-row boundary: a span as one flat row (one column per field), for every SQL engine.

A cattrs converter per engine, differing only in how a timestamp is stored (SQLite: fixed-width UTC text whose
string order is time order; ClickHouse: DateTime64). Nested values (findings, tags, events, agent actions) are JSON
text columns, written and read by the JSON boundary's converter (``adapters.codec``); booleans are 0/1.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import cattrs

from adapters.codec import json_converter
from domain.findings import SecurityFinding
from domain.providers import Provider, provider_from_name
from domain.traces import AgentAction, SpanEvent, TraceSpan

# The span fields held as JSON text.
JSON_COLUMNS = {
    tuple[SecurityFinding, ...],
    tuple[SpanEvent, ...],
    tuple[AgentAction, ...],
    Mapping[str, str],
}


class SpanRows:
    """Span <-> row for one engine's timestamp representation."""

    def __init__(self, to_ts: Callable[[dt.datetime], Any], from_ts: Callable[[Any], dt.datetime | None]) -> None:
        converter = cattrs.Converter()
        converter.register_unstructure_hook(dt.datetime, to_ts)
        converter.register_structure_hook(dt.datetime, lambda value, _: from_ts(value))
        converter.register_unstructure_hook(bool, int)
        converter.register_structure_hook(bool, lambda value, _: bool(value))
        converter.register_structure_hook(Provider, lambda value, _: provider_from_name(str(value or "custom")))
        converter.register_unstructure_hook_func(
            lambda t: t in JSON_COLUMNS, lambda value: json.dumps(json_converter.unstructure(value))
        )
        converter.register_structure_hook_func(
            lambda t: t in JSON_COLUMNS, lambda value, t: json_converter.structure(json.loads(value), t)
        )
        self._converter = converter

    def row(self, span: TraceSpan) -> dict[str, Any]:
        return self._converter.unstructure(span)  # type: ignore[no-any-return]

    def span(self, row: Mapping[str, Any]) -> TraceSpan:
        """Columns the span does not have (an engine's version column) are ignored."""
        return self._converter.structure(row, TraceSpan)
