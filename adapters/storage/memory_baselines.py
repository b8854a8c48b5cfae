"""Anomaly baselines in memory (one process; the fake for application tests)."""

from __future__ import annotations

import collections
from collections.abc import Sequence


class InMemoryBaselineStore:
    def __init__(self) -> None:
        self.samples: dict[str, collections.deque[float]] = {}
        self.events: dict[str, list[float]] = {}

    async def observe(self, samples: Sequence[tuple[str, float, bool]], window: int) -> list[list[float]]:
        out = []
        for key, value, keep in samples:
            kept = self.samples.setdefault(key, collections.deque(maxlen=window))
            out.append(list(kept))
            if keep:
                kept.append(value)
        return out

    async def count_recent(self, events: Sequence[tuple[str, float]], window_s: float) -> list[int]:
        out = []
        for key, at in events:
            times = [t for t in self.events.get(key, []) if t > at - 2 * window_s]  # older ones can never count
            times.append(at)
            self.events[key] = times
            out.append(sum(1 for t in times if at - window_s < t <= at))
        return out
