"""The gateway's limiter as it was before it moved to PostgreSQL: the baseline of bench.gateway.

The same per-process sliding window and daily counters (a deque of request times per user and a
dictionary of counts), with the shared limiter's async method names, so a gateway can run with
either and the difference per request is the cost of sharing the limit. Never used by the
services: one process's memory is not a limit behind a load balancer with several tasks.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta

from collections_shared.errors import TooManyRequestsError


class MemoryLimiter:
    def __init__(self, *, per_minute: int, daily_uploads: int, daily_llm_calls: int) -> None:
        self._per_minute = per_minute
        self._quotas = {"uploads": daily_uploads, "llm_calls": daily_llm_calls}
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._used: dict[tuple[str, str, str], int] = defaultdict(int)

    async def check_rate(self, user_id: str) -> None:
        now = time.monotonic()
        window = self._recent[user_id]
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= self._per_minute:
            retry_after = max(1, math.ceil(window[0] + 60 - now))
            raise TooManyRequestsError(
                f"more than {self._per_minute} requests per minute", retry_after=retry_after
            )
        window.append(now)

    async def spend(self, user_id: str, quota: str, amount: int = 1) -> None:
        today = datetime.now(UTC)
        key = (user_id, quota, today.date().isoformat())
        if self._used[key] + amount > self._quotas[quota]:
            tomorrow = datetime.combine(today.date() + timedelta(days=1), datetime.min.time(), UTC)
            raise TooManyRequestsError(
                f"daily {quota.replace('_', ' ')} quota of {self._quotas[quota]} reached",
                retry_after=max(1, int((tomorrow - today).total_seconds())),
                code=f"{quota}_quota_exceeded",
            )
        self._used[key] += amount

    async def close(self) -> None:
        return None
