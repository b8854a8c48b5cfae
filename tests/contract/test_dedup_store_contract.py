"""The contract every alert cooldown store passes: in memory (one process) and Redis (shared by replicas)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import trio

from adapters.storage.memory_alerts import InMemoryDedupStore
from adapters.storage.redis_dedup import RedisDedupStore
from ports.alerting import DedupStore

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.services)])
async def dedup(request: pytest.FixtureRequest) -> AsyncIterator[DedupStore]:
    if request.param == "memory":
        yield InMemoryDedupStore()
        return
    store = RedisDedupStore(REDIS_URL, prefix=f"llmtrace-test-{uuid.uuid4().hex[:8]}:")
    yield store
    await store.close()


async def test_claim_holds_for_its_cooldown_per_key(dedup: DedupStore) -> None:
    assert await dedup.claim("tenant-a:prompt_injection", 60)
    assert not await dedup.claim("tenant-a:prompt_injection", 60)  # inside the cooldown
    assert await dedup.claim("tenant-b:prompt_injection", 60)  # another tenant
    assert await dedup.claim("tenant-a:jailbreak", 60)  # another finding type


async def test_claim_is_free_again_once_the_cooldown_ends(dedup: DedupStore) -> None:
    assert await dedup.claim("short", 0.05)
    # Wait for the cooldown to end, however long this machine takes, rather than for a fixed time.
    with trio.fail_after(5):
        while not await dedup.claim("short", 0.05):  # noqa: ASYNC110 - polling a store, no event to wait on
            await trio.sleep(0.01)


async def test_suppressed_counts_are_taken_once(dedup: DedupStore) -> None:
    assert await dedup.take_suppressed("k") == 0
    for _ in range(3):
        await dedup.count_suppressed("k")
    await dedup.count_suppressed("other")
    assert await dedup.take_suppressed("k") == 3
    assert await dedup.take_suppressed("k") == 0  # reset by the take
    assert await dedup.take_suppressed("other") == 1
