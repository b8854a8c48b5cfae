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
from domain.usage import PERCENTILES, SEVERITY_KEYS, Percentiles, UsageRow

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


def usage_row(row: Mapping[str, Any], group: Mapping[str, str | None], bucket_start: dt.datetime | None) -> UsageRow:
    """A usage result row as both SQL engines name its columns (``requests``, ``findings_<severity>``,
    ``latency_p50``...); each engine decodes its own group keys and bucket."""

    def cut(name: str) -> Percentiles:
        p50, p95, p99 = (
            None if row[f"{name}_p{round(p * 100)}"] is None else float(row[f"{name}_p{round(p * 100)}"])
            for p in PERCENTILES
        )
        return Percentiles(p50=p50, p95=p95, p99=p99)

    return UsageRow(
        group=group,
        bucket_start=bucket_start,
        requests=int(row["requests"]),
        errors=int(row["errors"]),
        prompt_tokens=int(row["prompt_tokens"]),
        completion_tokens=int(row["completion_tokens"]),
        cached_prompt_tokens=int(row["cached_prompt_tokens"]),
        total_tokens=int(row["total_tokens"]),
        cost_usd=float(row["cost_usd"]),
        findings={s: int(row[f"findings_{s}"] or 0) for s in SEVERITY_KEYS},
        latency_ms=cut("latency"),
        ttft_ms=cut("ttft"),
    )
