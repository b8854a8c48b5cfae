"""One Redis connection pool per proxy, shared by every Redis-backed adapter (counters, alert cooldowns).

The redis-py sync client runs in worker threads (redis.asyncio is asyncio-only); each call is one short command or
one pipeline, bounded to 8 at a time. Redis errors surface as ``StorageUnavailable``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import redis
import trio

from ports.repositories import StorageUnavailable

T = TypeVar("T")


class RedisConnection:
    def __init__(self, url: str, prefix: str = "llmtrace:") -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix
        self._limiter = trio.CapacityLimiter(8)

    async def run(self, fn: Callable[[], T]) -> T:
        def work() -> T:
            try:
                return fn()
            except redis.RedisError as exc:
                raise StorageUnavailable(f"redis: {exc}") from exc

        return await trio.to_thread.run_sync(work, limiter=self._limiter)

    async def health_check(self) -> None:
        await self.run(self.client.ping)

    async def close(self) -> None:
        self.client.close()


def connection(target: RedisConnection | str, prefix: str) -> RedisConnection:
    """An adapter built from a URL alone (tests, tools) opens its own connection."""
    return target if isinstance(target, RedisConnection) else RedisConnection(target, prefix)
