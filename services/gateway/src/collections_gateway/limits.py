"""Per-user request rate and daily quotas.

The rate limit is a sliding one-minute window per user, kept in the gateway process (one gateway
task per user's requests is the common case; with several tasks each enforces its share — put a
shared store behind this interface when that matters). Daily quotas count uploads and LLM-backed
calls per user and UTC day. Exceeding either gives 429 with Retry-After; other users are unaffected.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta

from collections_shared.errors import TooManyRequestsError


class Limiter:
    def __init__(self, *, per_minute: int, daily_uploads: int, daily_llm_calls: int) -> None:
        self._per_minute = per_minute
        self._quotas = {"uploads": daily_uploads, "llm_calls": daily_llm_calls}
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._used: dict[tuple[str, str, str], int] = defaultdict(int)

    def check_rate(self, user_id: str) -> None:
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

    def spend(self, user_id: str, quota: str, amount: int = 1) -> None:
        """Count ``amount`` against today's ``quota`` or raise 429 if it would exceed it."""
        self.check(user_id, quota, amount)
        self.record(user_id, quota, amount)

    def check(self, user_id: str, quota: str, amount: int = 1) -> None:
        """Raise 429 if ``amount`` more would exceed today's ``quota``; count nothing.

        For work whose cost is known only afterwards (a search may or may not call the LLM):
        check before, :meth:`record` after.
        """
        today = datetime.now(UTC)
        if self._used[self._key(user_id, quota, today)] + amount > self._quotas[quota]:
            tomorrow = datetime.combine(today.date() + timedelta(days=1), datetime.min.time(), UTC)
            raise TooManyRequestsError(
                f"daily {quota.replace('_', ' ')} quota of {self._quotas[quota]} reached",
                retry_after=max(1, int((tomorrow - today).total_seconds())),
                code=f"{quota}_quota_exceeded",
            )

    def record(self, user_id: str, quota: str, amount: int = 1) -> None:
        """Count ``amount`` against today's ``quota`` for work already done; never raises."""
        self._used[self._key(user_id, quota, datetime.now(UTC))] += amount

    @staticmethod
    def _key(user_id: str, quota: str, now: datetime) -> tuple[str, str, str]:
        return (user_id, quota, now.date().isoformat())
