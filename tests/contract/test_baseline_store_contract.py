"""The contract every anomaly baseline store passes: in memory (one process) and Redis (shared by replicas)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.storage.memory_baselines import InMemoryBaselineStore
from adapters.storage.redis_baselines import RedisBaselineStore
from ports.anomaly import BaselineStore

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.services)])
async def baselines(request: pytest.FixtureRequest) -> AsyncIterator[BaselineStore]:
    if request.param == "memory":
        yield InMemoryBaselineStore()
        return
    store = RedisBaselineStore(REDIS_URL, prefix=f"llmtrace-test-{uuid.uuid4().hex[:8]}:")
    yield store
    await store.close()


async def test_observe_returns_what_came_before_and_keeps_the_window(baselines: BaselineStore) -> None:
    assert await baselines.observe([("a", 1.0, True), ("b", 10.0, True)], window=3) == [[], []]
    for value in (2.0, 3.0, 4.0):
        await baselines.observe([("a", value, True)], window=3)
    assert await baselines.observe([("a", 5.0, True), ("b", 11.0, False)], window=3) == [[2.0, 3.0, 4.0], [10.0]]
    assert await baselines.observe([("a", 0.5, True), ("b", 12.0, True)], window=3) == [[3.0, 4.0, 5.0], [10.0]]


async def test_count_recent_counts_the_window_up_to_each_event(baselines: BaselineStore) -> None:
    counts = [(await baselines.count_recent([("r", float(t))], window_s=60))[0] for t in (0, 10, 30, 59, 70, 130)]
    assert counts == [1, 2, 3, 4, 3, 1]  # at 70 the events at 0 and 10 (exactly 60 s earlier) have left
    other = await baselines.count_recent([("r", 131.0), ("s", 131.0)], window_s=60)
    assert other == [2, 1]
