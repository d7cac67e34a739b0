"""Per-user request rate and daily quotas, kept in PostgreSQL and shared by every gateway task.

- **Rate**: at most ``per_minute`` requests in a sliding minute per user, estimated from two fixed
  windows (the previous window's count weighted by the share of it still inside the last minute,
  plus the current window's). A burst from a fresh user gets exactly ``per_minute`` through.
  The estimate assumes the previous window's requests were spread evenly: if they were bunched
  at its start it refuses a little earlier than an exact log of the last 60 s would, if bunched
  at its end a little later; it never lets through more than ``per_minute`` in one window.
- **Quotas**: uploads and LLM-backed calls per user and UTC day.

Both are single atomic statements in the database (``collections_take_requests``,
``collections_spend_quota``, migration 0006), so any number of gateway tasks enforce one limit,
and a restart or deploy forgets nothing. Exceeding either is 429 with ``Retry-After``; other users
are unaffected. If the database cannot answer, the request is 503 (every route needs it anyway).

Rate checks are batched: the requests that arrive while one call is in flight go to the database
together in the next call, so under load one round trip admits many requests. The limiter has a
small pool of its own (:func:`open_limiter_pool`) that skips asyncpg's reset query on release:
the functions leave no session state, and the reset would be a second round trip per call
(``docs/performance.md`` has the cost per request).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from collections_shared.db import Pool, create_pool
from collections_shared.errors import ServiceUnavailableError, TooManyRequestsError
from collections_shared.logging import get_logger

log = get_logger(__name__)

WINDOW_SECONDS = 60
_CALL_TIMEOUT_SECONDS = 3.0
_MAX_BATCH = 500
_PRUNE_EVERY_SECONDS = 600.0
_TAKE = "SELECT requester, granted, retry_after_ms FROM collections_take_requests($1, $2, $3, $4)"
_SPEND = "SELECT collections_spend_quota($1, $2, $3, $4)"
_USED = "SELECT collections_quota_used($1, $2)"
_NO_LIMIT = 2**31 - 1
_UNAVAILABLE = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


_UNAVAILABLE_DETAIL = "the rate limit cannot be checked right now; try again shortly"
_CODE = "dependency_unavailable"


def _settle(
    batch: list[tuple[str, asyncio.Future[None]]], error: Callable[[], BaseException]
) -> None:
    for _, admitted in batch:
        if not admitted.done():
            admitted.set_exception(error())


def _cancel(batch: list[tuple[str, asyncio.Future[None]]]) -> None:
    for _, admitted in batch:
        admitted.cancel()


async def _nothing_to_reset(connection: object) -> None:
    return None


async def open_limiter_pool(dsn: str) -> Pool:
    """Connections for the limiter only: one batch in flight, plus quota spends."""
    return await create_pool(dsn, min_size=0, max_size=4, reset=_nothing_to_reset)


class Limiter:
    def __init__(
        self, pool: Pool, *, per_minute: int, daily_uploads: int, daily_llm_calls: int
    ) -> None:
        self._pool = pool
        self._per_minute = per_minute
        self._quotas = {"uploads": daily_uploads, "llm_calls": daily_llm_calls}
        self._waiting: list[tuple[str, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def check_rate(self, user_id: str) -> None:
        """Count one request of ``user_id``; 429 with Retry-After once the minute is full."""
        admitted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((user_id, admitted))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_batches())
        await admitted

    async def _send_batches(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:_MAX_BATCH], self._waiting[_MAX_BATCH:]
                await self._send(batch)
        except asyncio.CancelledError:
            waiting, self._waiting = self._waiting, []
            _cancel(waiting)
            raise
        finally:
            self._sender = None

    async def _send(self, batch: list[tuple[str, asyncio.Future[None]]]) -> None:
        wanted = Counter(user_id for user_id, _ in batch)
        try:
            rows = await self._pool.fetch(
                _TAKE,
                list(wanted),
                list(wanted.values()),
                self._per_minute,
                WINDOW_SECONDS,
                timeout=_CALL_TIMEOUT_SECONDS,
            )
        except _UNAVAILABLE as error:
            log.warning("rate_limit_unavailable", error_type=type(error).__name__)
            _settle(batch, lambda: ServiceUnavailableError(_UNAVAILABLE_DETAIL, code=_CODE))
            return
        except Exception as error:
            # Nobody may wait forever: an unexpected failure is every waiter's answer (a 500).
            log.exception("rate_limit_failed")
            reason = f"rate limit check failed: {error!r}"
            _settle(batch, lambda: RuntimeError(reason))
            return
        except asyncio.CancelledError:
            _cancel(batch)
            raise
        granted = {row["requester"]: row["granted"] for row in rows}
        retry_after_ms = {row["requester"]: row["retry_after_ms"] for row in rows}
        for user_id, admitted in batch:
            if admitted.done():  # the request was cancelled (client gone) while it waited
                continue
            if granted[user_id] > 0:
                granted[user_id] -= 1
                admitted.set_result(None)
            else:
                admitted.set_exception(self._too_many(retry_after_ms[user_id]))

    def _too_many(self, retry_after_ms: int) -> TooManyRequestsError:
        return TooManyRequestsError(
            f"more than {self._per_minute} requests per minute",
            retry_after=max(1, math.ceil(retry_after_ms / 1000)),
        )

    async def spend(self, user_id: str, quota: str, amount: int = 1) -> None:
        """Count ``amount`` against today's ``quota`` or raise 429 if it would exceed it.

        One statement in the database: concurrent spends from any task cannot overshoot.
        """
        limit = self._quotas[quota]
        if await self._quota_call(_SPEND, user_id, quota, amount, limit) is None:
            raise self._exceeded(quota)

    async def check(self, user_id: str, quota: str, amount: int = 1) -> None:
        """Raise 429 if ``amount`` more would exceed today's ``quota``; count nothing.

        For work whose cost is known only afterwards (a search may or may not call the LLM):
        check before, :meth:`record` after.
        """
        used = await self._quota_call(_USED, user_id, quota)
        if used + amount > self._quotas[quota]:
            raise self._exceeded(quota)

    async def record(self, user_id: str, quota: str, amount: int = 1) -> None:
        """Count ``amount`` against today's ``quota`` for work already done; never raises.

        The count may pass the quota (the work happened); the next check or spend refuses.
        """
        try:
            await self._quota_call(_SPEND, user_id, quota, amount, _NO_LIMIT)
        except ServiceUnavailableError:
            log.warning("quota_record_lost", quota=quota, amount=amount)

    async def _quota_call(self, statement: str, *args: object) -> Any:
        try:
            return await self._pool.fetchval(statement, *args, timeout=_CALL_TIMEOUT_SECONDS)
        except _UNAVAILABLE as error:
            log.warning("quota_unavailable", error_type=type(error).__name__)
            raise ServiceUnavailableError(
                "the quota cannot be checked right now; try again shortly", code=_CODE
            ) from error

    def _exceeded(self, quota: str) -> TooManyRequestsError:
        now = datetime.now(UTC)
        tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        return TooManyRequestsError(
            f"daily {quota.replace('_', ' ')} quota of {self._quotas[quota]} reached",
            retry_after=max(1, math.ceil((tomorrow - now).total_seconds())),
            code=f"{quota}_quota_exceeded",
        )

    async def prune(self) -> int:
        """Delete counters that no longer limit anyone; how many rows went."""
        removed: int = await self._pool.fetchval(
            "SELECT collections_prune_limits($1)", WINDOW_SECONDS
        )
        return removed

    async def prune_forever(self, every: float = _PRUNE_EVERY_SECONDS) -> None:
        """Prune every ``every`` seconds until cancelled; a failed round is logged and retried."""
        while True:
            await asyncio.sleep(every)
            try:
                removed = await self.prune()
            except _UNAVAILABLE as error:
                log.warning("limits_prune_failed", error_type=type(error).__name__)
                continue
            if removed:
                log.info("limits_pruned", rows=removed)

    async def close(self) -> None:
        """Wait for a batch still in flight (the requests behind it are being answered)."""
        if self._sender is not None:
            with contextlib.suppress(Exception):
                await self._sender
