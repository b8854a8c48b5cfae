"""What operators ask of stored traces, in domain terms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Generic, TypeVar

import attrs

from domain.providers import Provider

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class TraceQuery:
    tenant_id: str
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    provider: Provider | None = None
    model_name: str | None = None
    operation_name: str | None = None
    min_security_score: int | None = None
    max_security_score: int | None = None
    trace_id: str | None = None
    limit: int = DEFAULT_PAGE_SIZE
    offset: int = 0


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int


@attrs.frozen(kw_only=True)
class StorageStats:
    total_traces: int
    total_spans: int
    storage_size_bytes: int
    oldest_trace: dt.datetime | None
    newest_trace: dt.datetime | None
