"""Cooldowns in Redis, shared by every proxy replica (``SET NX PX`` claims, ``INCR``/``GETDEL`` counters).

Commands go through the proxy's one ``RedisConnection`` (worker threads, bounded).
"""

from __future__ import annotations

from adapters.storage.redis_client import RedisConnection, connection


class RedisDedupStore:
    def __init__(self, redis_connection: RedisConnection | str, prefix: str = "llmtrace:") -> None:
        self._redis = connection(redis_connection, prefix)
        self._client = self._redis.client
        self._prefix = self._redis.prefix
        self._run = self._redis.run

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
        await self._redis.health_check()

    async def close(self) -> None:
        await self._redis.close()
