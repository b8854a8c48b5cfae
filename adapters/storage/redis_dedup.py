"""Cooldowns in Redis, shared by every proxy replica (``SET NX PX`` claims, ``INCR``/``GETDEL`` counters).

The redis-py sync client runs in worker threads (redis.asyncio is asyncio-only); each call is one short command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import redis
import trio

from ports.repositories import StorageUnavailable

T = TypeVar("T")


class RedisDedupStore:
    def __init__(self, url: str, prefix: str = "llmtrace:") -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix
        self._limiter = trio.CapacityLimiter(8)

    async def _run(self, fn: Callable[[], T]) -> T:
        def work() -> T:
            try:
                return fn()
            except redis.RedisError as exc:
                raise StorageUnavailable(f"redis: {exc}") from exc

        return await trio.to_thread.run_sync(work, limiter=self._limiter)

    async def claim(self, key: str, ttl_s: float) -> bool:
        name = self._prefix + key
        return bool(await self._run(lambda: self._client.set(name, b"1", nx=True, px=max(1, int(ttl_s * 1000)))))

    async def count_suppressed(self, key: str) -> None:
        name = self._prefix + key + ":suppressed"
        await self._run(lambda: self._client.incr(name))

    async def take_suppressed(self, key: str) -> int:
        name = self._prefix + key + ":suppressed"
        value = await self._run(lambda: self._client.getdel(name))
        return int(value) if value else 0

    async def health_check(self) -> None:
        await self._run(self._client.ping)

    async def close(self) -> None:
        self._client.close()
