"""Shared counters: in memory (one process) or in Redis (atomic across replicas: a Lua token bucket on Redis's
clock, INCRBYFLOAT for spend)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from adapters.storage.redis_client import RedisConnection, connection
from domain.traffic import BucketLimit, BucketVerdict, bucket_verdict, take_token


class InMemoryCounters:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self.totals_by_key: dict[str, float] = {}
        self._clock = clock

    async def take(self, key: str, limit: BucketLimit) -> BucketVerdict:
        now = self._clock()
        tokens, last = self.buckets.get(key, (float(limit.burst), now))
        tokens, verdict = take_token(tokens, last, now, limit)
        self.buckets[key] = (tokens, now)
        return verdict

    async def add(self, key: str, amount: float, ttl_s: int) -> None:
        self.totals_by_key[key] = self.totals_by_key.get(key, 0.0) + amount

    async def add_many(self, amounts: Sequence[tuple[str, float, int]]) -> None:
        for key, amount, _ in amounts:
            self.totals_by_key[key] = self.totals_by_key.get(key, 0.0) + amount

    async def total(self, key: str) -> float:
        return self.totals_by_key.get(key, 0.0)

    async def totals(self, keys: Sequence[str]) -> list[float]:
        return [self.totals_by_key.get(key, 0.0) for key in keys]


# KEYS[1] bucket; ARGV: rate per second, burst. The same arithmetic as domain.traffic.take_token, on Redis's clock,
# in one atomic step whichever replica asks. Returns {allowed, tokens left (as a string: Lua numbers are doubles)}.
TOKEN_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""


class RedisCounters:
    def __init__(self, redis_connection: RedisConnection | str, prefix: str = "llmtrace:") -> None:
        self._redis = connection(redis_connection, prefix)
        self._client = self._redis.client
        self._prefix = self._redis.prefix
        self._bucket = self._client.register_script(TOKEN_BUCKET)
        self._run = self._redis.run

    async def take(self, key: str, limit: BucketLimit) -> BucketVerdict:
        name = self._prefix + key

        def call() -> BucketVerdict:
            allowed, tokens = self._bucket(keys=[name], args=[limit.rate_per_s, limit.burst])
            return bucket_verdict(bool(allowed), float(tokens), limit)

        return await self._run(call)

    async def add(self, key: str, amount: float, ttl_s: int) -> None:
        name = self._prefix + key

        def call() -> None:
            pipe = self._client.pipeline()
            pipe.incrbyfloat(name, amount)
            pipe.expire(name, ttl_s)
            pipe.execute()

        await self._run(call)

    async def add_many(self, amounts: Sequence[tuple[str, float, int]]) -> None:
        def call() -> None:
            pipe = self._client.pipeline()  # MULTI/EXEC: all or none
            for key, amount, ttl_s in amounts:
                pipe.incrbyfloat(self._prefix + key, amount)
                pipe.expire(self._prefix + key, ttl_s)
            pipe.execute()

        await self._run(call)

    async def total(self, key: str) -> float:
        value = await self._run(lambda: self._client.get(self._prefix + key))
        return float(value) if value else 0.0

    async def totals(self, keys: Sequence[str]) -> list[float]:
        if not keys:
            return []
        values = await self._run(lambda: self._client.mget([self._prefix + key for key in keys]))
        return [float(v) if v else 0.0 for v in values]

    async def health_check(self) -> None:
        await self._redis.health_check()

    async def close(self) -> None:
        await self._redis.close()
