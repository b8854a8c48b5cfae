"""Usage and spend, grouped: who spends what (model, provider, agent, API key, end user, operation), by time bucket.

The stores compute usage in their own query language (``TraceRepository.usage``); ``usage_rows`` here is the
reference definition in plain Python, which the in-memory store runs and the contract suite holds every store to:

- ``requests``: spans; ``errors``: spans whose status is missing or >= 400, or that carry an error message;
- tokens and cost: sums of what each span recorded (absent counts add nothing);
- ``findings``: findings per severity, leaving out the bookkeeping notes (``analysis_*``);
- latency and time to first token: nearest-rank percentiles (the value at rank ceil(p x n)) over the spans that
  have one.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from domain.findings import SecurityFinding, Severity
from domain.traces import TraceSpan


class UsageDimension(enum.Enum):
    MODEL = "model"
    PROVIDER = "provider"
    AGENT = "agent"
    API_KEY = "api_key"
    USER = "user"
    OPERATION = "operation"


# The span field (and store column) behind each dimension.
DIMENSION_FIELDS: Mapping[UsageDimension, str] = {
    UsageDimension.MODEL: "model_name",
    UsageDimension.PROVIDER: "provider",
    UsageDimension.AGENT: "agent_id",
    UsageDimension.API_KEY: "credential",
    UsageDimension.USER: "end_user_id",
    UsageDimension.OPERATION: "operation_name",
}


class TimeBucket(enum.Enum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"

    def start_of(self, at: dt.datetime) -> dt.datetime:
        at = at.astimezone(dt.UTC)
        if self is TimeBucket.MINUTE:
            return at.replace(second=0, microsecond=0)
        if self is TimeBucket.HOUR:
            return at.replace(minute=0, second=0, microsecond=0)
        return at.replace(hour=0, minute=0, second=0, microsecond=0)


PERCENTILES = (0.5, 0.95, 0.99)
SEVERITY_KEYS = tuple(s.value.lower() for s in Severity)  # info, low, medium, high, critical
MAX_USAGE_ROWS = 10_000


@attrs.frozen(kw_only=True)
class UsageQuery:
    tenant_id: str | None  # None: every tenant (global stats, superuser only)
    group_by: tuple[UsageDimension, ...] = ()
    bucket: TimeBucket | None = None
    start_time: dt.datetime | None = None  # inclusive
    end_time: dt.datetime | None = None  # exclusive
    percentiles: bool = True  # latency and TTFT percentiles (the costly part in SQLite); False: sums only


@attrs.frozen(kw_only=True)
class Percentiles:
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


@attrs.frozen(kw_only=True)
class UsageRow:
    group: Mapping[str, str | None]  # dimension value -> the group's value (None: not recorded)
    bucket_start: dt.datetime | None
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    total_tokens: int
    cost_usd: float
    findings: Mapping[str, int]  # severity (lower case) -> count
    latency_ms: Percentiles
    ttft_ms: Percentiles


def parse_usage_query(
    tenant_id: str,
    group_by: str | None,
    bucket: str | None,
    start_time: dt.datetime | None,
    end_time: dt.datetime | None,
    with_percentiles: str | None = None,
) -> UsageQuery:
    """From the API's parameters; raises ValueError naming what is wrong."""
    dimensions: list[UsageDimension] = []
    for name in (group_by or "").split(","):
        name = name.strip()
        if not name:
            continue
        try:
            dimension = UsageDimension(name)
        except ValueError:
            allowed = ", ".join(d.value for d in UsageDimension)
            raise ValueError(f"group_by: unknown dimension {name!r} (allowed: {allowed})") from None
        if dimension not in dimensions:
            dimensions.append(dimension)
    time_bucket = None
    if bucket:
        try:
            time_bucket = TimeBucket(bucket)
        except ValueError:
            raise ValueError(f"bucket must be minute, hour or day, got {bucket!r}") from None
    if start_time is not None and end_time is not None and end_time <= start_time:
        raise ValueError("end_time must be after start_time")
    if with_percentiles not in (None, "", "true", "false"):
        raise ValueError(f"percentiles must be true or false, got {with_percentiles!r}")
    return UsageQuery(
        tenant_id=tenant_id,
        group_by=tuple(dimensions),
        bucket=time_bucket,
        start_time=start_time,
        end_time=end_time,
        percentiles=with_percentiles != "false",
    )


def is_error(span: TraceSpan) -> bool:
    return span.status_code is None or span.status_code >= 400 or span.error_message is not None


def counted_findings(findings: Iterable[SecurityFinding]) -> dict[str, int]:
    """Findings per severity, without the bookkeeping notes (``analysis_skipped`` and the like)."""
    counts = dict.fromkeys(SEVERITY_KEYS, 0)
    for finding in findings:
        if not finding.finding_type.startswith("analysis_"):
            counts[finding.severity.value.lower()] += 1
    return counts


def nearest_rank(sorted_values: Sequence[float], p: float) -> float | None:
    if not sorted_values:
        return None
    return float(sorted_values[max(1, math.ceil(p * len(sorted_values))) - 1])


def percentiles(values: Iterable[float | None]) -> Percentiles:
    ordered = sorted(v for v in values if v is not None)
    p50, p95, p99 = (nearest_rank(ordered, p) for p in PERCENTILES)
    return Percentiles(p50=p50, p95=p95, p99=p99)


def group_value(span: TraceSpan, dimension: UsageDimension) -> str | None:
    value: Any = getattr(span, DIMENSION_FIELDS[dimension])
    if isinstance(value, enum.Enum):
        return str(value.value)
    return value if value is None else str(value)


def in_period(span: TraceSpan, query: UsageQuery) -> bool:
    return (query.start_time is None or span.start_time >= query.start_time) and (
        query.end_time is None or span.start_time < query.end_time
    )


def usage_rows(spans: Iterable[TraceSpan], query: UsageQuery) -> list[UsageRow]:
    groups: dict[tuple[tuple[str | None, ...], dt.datetime | None], list[TraceSpan]] = {}
    for span in spans:
        if (query.tenant_id is not None and span.tenant_id != query.tenant_id) or not in_period(span, query):
            continue
        key = tuple(group_value(span, d) for d in query.group_by)
        bucket = query.bucket.start_of(span.start_time) if query.bucket is not None else None
        groups.setdefault((key, bucket), []).append(span)
    rows = []
    for (key, bucket), members in groups.items():
        findings = dict.fromkeys(SEVERITY_KEYS, 0)
        for span in members:
            for severity, count in counted_findings(span.security_findings).items():
                findings[severity] += count
        rows.append(
            UsageRow(
                group={d.value: v for d, v in zip(query.group_by, key, strict=True)},
                bucket_start=bucket,
                requests=len(members),
                errors=sum(1 for s in members if is_error(s)),
                prompt_tokens=sum(s.prompt_tokens or 0 for s in members),
                completion_tokens=sum(s.completion_tokens or 0 for s in members),
                cached_prompt_tokens=sum(s.cached_prompt_tokens or 0 for s in members),
                total_tokens=sum(s.total_tokens or 0 for s in members),
                cost_usd=sum(s.estimated_cost_usd or 0.0 for s in members),
                findings=findings,
                latency_ms=percentiles(s.duration_ms for s in members) if query.percentiles else Percentiles(),
                ttft_ms=percentiles(s.time_to_first_token_ms for s in members) if query.percentiles else Percentiles(),
            )
        )
    return sort_rows(rows, query)


def sort_rows(rows: Iterable[UsageRow], query: UsageQuery) -> list[UsageRow]:
    """Oldest bucket first, then by group (a missing value first), so every store answers in the same order."""

    def key(row: UsageRow) -> tuple[Any, ...]:
        start = row.bucket_start.timestamp() if row.bucket_start is not None else 0.0
        return (start, *((v is not None, v or "") for v in (row.group[d.value] for d in query.group_by)))

    return sorted(rows, key=key)
