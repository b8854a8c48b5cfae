"""Shared counters: in memory (one process) or in Redis (atomic across replicas: a Lua sliding window, INCRBYFLOAT)."""

from __future__ import annotations

import collections
import uuid
from collections.abc import Callable
from typing import TypeVar

import redis
import trio

from ports.repositories import StorageUnavailable

T = TypeVar("T")


class InMemoryCounters:
    def __init__(self) -> None:
        self.windows: dict[str, collections.deque[float]] = {}
        self.totals: dict[str, float] = {}

    async def hit(self, key: str, now_s: float, window_s: float, limit: int) -> tuple[bool, int]:
        window = self.windows.setdefault(key, collections.deque())
        while window and window[0] <= now_s - window_s:
            window.popleft()
        if len(window) >= limit:
            return False, max(1, int(window[0] + window_s - now_s) + 1)
        window.append(now_s)
        return True, 0

    async def add(self, key: str, amount: float, ttl_s: int) -> None:
        self.totals[key] = self.totals.get(key, 0.0) + amount

    async def total(self, key: str) -> float:
        return self.totals.get(key, 0.0)


# KEYS[1] window key; ARGV: now (s), window (s), limit, member. One atomic step per request, whichever replica.
SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, math.ceil(oldest[2] + ARGV[2] - ARGV[1])}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[2]) + 1)
return {1, 0}
"""


class RedisCounters:
    def __init__(self, url: str, prefix: str = "llmtrace:") -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix
        self._window = self._client.register_script(SLIDING_WINDOW)
        self._limiter = trio.CapacityLimiter(8)

    async def _run(self, fn: Callable[[], T]) -> T:
        def work() -> T:
            try:
                return fn()
            except redis.RedisError as exc:
                raise StorageUnavailable(f"redis: {exc}") from exc

        return await trio.to_thread.run_sync(work, limiter=self._limiter)

    async def hit(self, key: str, now_s: float, window_s: float, limit: int) -> tuple[bool, int]:
        name = self._prefix + key
        member = uuid.uuid4().hex

        def call() -> tuple[bool, int]:
            # Redis's clock, not this replica's: every replica counts on the same timeline.
            seconds, micros = self._client.time()
            allowed, retry = self._window(keys=[name], args=[seconds + micros / 1e6, window_s, limit, member])
            return bool(allowed), max(int(retry), 1 if not allowed else 0)

        return await self._run(call)

    async def add(self, key: str, amount: float, ttl_s: int) -> None:
        name = self._prefix + key

        def call() -> None:
            pipe = self._client.pipeline()
            pipe.incrbyfloat(name, amount)
            pipe.expire(name, ttl_s)
            pipe.execute()

        await self._run(call)

    async def total(self, key: str) -> float:
        value = await self._run(lambda: self._client.get(self._prefix + key))
        return float(value) if value else 0.0

    async def health_check(self) -> None:
        await self._run(self._client.ping)

    async def close(self) -> None:
        self._client.close()
