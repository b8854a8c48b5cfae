"""Counters that must agree across proxy replicas: request buckets per tenant (and key), spend per window."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.traffic import BucketLimit, BucketVerdict


class SharedCounters(Protocol):
    async def take(self, key: str, limit: BucketLimit) -> BucketVerdict:
        """Take one token from the bucket ``key`` (a new bucket is full), in one atomic step across replicas."""

    async def add(self, key: str, amount: float, ttl_s: int) -> None:
        """Atomically add to a running total."""

    async def add_many(self, amounts: Sequence[tuple[str, float, int]]) -> None:
        """Atomically add to several running totals: (key, amount, ttl seconds) each."""

    async def total(self, key: str) -> float: ...

    async def totals(self, keys: Sequence[str]) -> list[float]: ...
