"""Token buckets in Redis: budgets that hold across every node of a community (scale-out).

Behind N nodes, a client that spreads its login guesses or its messages over them must not
get N budgets. Each bucket is one Redis hash (``tokens``, ``updated``) under
``<prefix>:bucket:<budget>:<key>``, changed by ONE Lua script per ``take``: the script
refills every bucket named from Redis's own clock (so the nodes' clocks do not matter),
checks them all and spends from all or none, atomically (Redis runs one script at a time).
Every key expires once its bucket would be full again, so Redis keeps only the buckets in
use.

Losing Redis: a ``take`` falls back to this node's own buckets (``LocalBuckets``) and logs
``shared_buckets_unavailable`` at most once a minute: the node keeps throttling, per node,
rather than refusing everyone or letting everyone through.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from aronanet.server.logs import ThrottledLog
from aronanet.server.ratelimit import Charge, LocalBuckets

logger = logging.getLogger(__name__)
_unavailable_log = ThrottledLog(logger, "shared_buckets_unavailable")

#: KEYS: the buckets. ARGV: cost (1 take, -1 refund), then rate and burst per bucket.
#: Returns 0 (spent or refunded) or the milliseconds until every bucket has ``cost``.
TAKE_SCRIPT = """
local cost = tonumber(ARGV[1])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local tokens = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'tokens', 'updated')
  local have = tonumber(state[1])
  local updated = tonumber(state[2])
  if have == nil or updated == nil then
    have = burst
    updated = now
  end
  have = math.min(burst, have + math.max(0, now - updated) * rate)
  tokens[i] = have
  if cost > 0 and have < cost then
    wait = math.max(wait, math.max(1, math.ceil((cost - have) / rate * 1000)))
  end
end
if wait > 0 then
  return wait
end
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local left = math.min(burst, tokens[i] - cost)
  redis.call('HSET', key, 'tokens', tostring(left), 'updated', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((burst - left) / rate * 1000) + 1000)
end
return 0
"""


class RedisBuckets:
    """``Buckets`` kept in Redis (see the module docstring)."""

    def __init__(self, redis: Redis, prefix: str, fallback: LocalBuckets) -> None:
        self._redis = redis
        self._prefix = prefix
        self._fallback = fallback
        self._script = redis.register_script(TAKE_SCRIPT)

    async def _run(self, charges: Sequence[Charge], cost: int) -> int | None:
        keys = [f"{self._prefix}:bucket:{budget.name}:{key}" for budget, key in charges]
        args: list[float] = [cost]
        for budget, _ in charges:
            args += [budget.rate, budget.burst]
        try:
            return int(await self._script(keys=keys, args=args))
        except RedisError as exc:
            _unavailable_log(error=type(exc).__name__)
            return None

    async def take(self, charges: Sequence[Charge]) -> int:
        if not charges:
            return 0
        wait = await self._run(charges, 1)
        return self._fallback.take_now(charges) if wait is None else wait

    async def refund(self, charges: Sequence[Charge]) -> None:
        if charges and await self._run(charges, -1) is None:
            await self._fallback.refund(charges)

    async def close(self) -> None:
        await self._redis.aclose()
