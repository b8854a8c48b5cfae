"""Anomaly baselines in Redis, so every replica judges against the same history.

A baseline is a list (``LRANGE`` then ``RPUSH`` + ``LTRIM`` in one Lua step, so concurrent replicas never lose a
value); request times for velocity are a sorted set (``ZADD``, trim, ``ZCOUNT`` in one ``MULTI``). Keys expire a day
after their last use.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from adapters.storage.redis_client import RedisConnection, connection
from domain.anomaly import BASELINE_TTL_S

# KEYS: the baselines; ARGV[1] window, ARGV[2] ttl, then per key its value and 1/0 (keep it). Returns the previous
# values of each key.
OBSERVE = """
local out = {}
local window = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  out[i] = redis.call('LRANGE', key, 0, -1)
  if ARGV[2 * i + 2] == '1' then
    redis.call('RPUSH', key, ARGV[2 * i + 1])
    redis.call('LTRIM', key, -window, -1)
    redis.call('EXPIRE', key, ARGV[2])
  end
end
return out
"""


class RedisBaselineStore:
    def __init__(self, redis_connection: RedisConnection | str, prefix: str = "llmtrace:") -> None:
        self._redis = connection(redis_connection, prefix)
        self._client = self._redis.client
        self._prefix = self._redis.prefix
        self._observe = self._client.register_script(OBSERVE)

    async def observe(self, samples: Sequence[tuple[str, float, bool]], window: int) -> list[list[float]]:
        if not samples:
            return []
        keys = [self._prefix + key for key, _, _ in samples]
        args: list[str | int] = [window, BASELINE_TTL_S]
        for _, value, keep in samples:
            args += [repr(float(value)), "1" if keep else "0"]
        raw = await self._redis.run(lambda: self._observe(keys=keys, args=args))
        return [[float(v) for v in values] for values in raw]

    async def count_recent(self, events: Sequence[tuple[str, float]], window_s: float) -> list[int]:
        if not events:
            return []

        def call() -> list[int]:
            pipe = self._client.pipeline()  # MULTI/EXEC
            for key, at in events:
                name = self._prefix + key
                pipe.zadd(name, {f"{at!r}:{uuid.uuid4().hex[:8]}": at})
                pipe.zremrangebyscore(name, "-inf", f"({at - 2 * window_s!r}")
                pipe.zcount(name, f"({at - window_s!r}", repr(at))
                pipe.expire(name, BASELINE_TTL_S)
            results = pipe.execute()
            return [int(results[i * 4 + 2]) for i in range(len(events))]

        return await self._redis.run(call)

    async def close(self) -> None:
        await self._redis.close()
