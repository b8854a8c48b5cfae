"""Baselines for anomaly detection, shared by every replica that uses the same store (Redis in production)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class BaselineStore(Protocol):
    async def observe(self, samples: Sequence[tuple[str, float, bool]], window: int) -> list[list[float]]:
        """For each (key, value, keep), in one step: the values recorded under the key before (oldest first, at
        most ``window``), then, when ``keep``, record the value, keeping the last ``window``."""

    async def count_recent(self, events: Sequence[tuple[str, float]], window_s: float) -> list[int]:
        """For each (key, at) (``at`` in epoch seconds): record an event at that time and count the key's events in
        ``(at - window_s, at]``, this one included."""
