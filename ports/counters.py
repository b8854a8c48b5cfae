"""Counters that must agree across proxy replicas: request rate per tenant and spend per tenant and month."""

from __future__ import annotations

from typing import Protocol


class SharedCounters(Protocol):
    async def hit(self, key: str, now_s: float, window_s: float, limit: int) -> tuple[bool, int]:
        """Count one event in a sliding window if fewer than ``limit`` are in it; (allowed, retry-after seconds)."""

    async def add(self, key: str, amount: float, ttl_s: int) -> None:
        """Atomically add to a running total."""

    async def total(self, key: str) -> float: ...
