"""The shared limiter on a real PostgreSQL: atomic per user across gateway tasks, with expiry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from collections_devtools.testing.fixtures import DatabaseUnderTest, free_port
from collections_gateway.limits import WINDOW_SECONDS, Limiter
from collections_shared.db import Pool, create_pool
from collections_shared.errors import ServiceUnavailableError, TooManyRequestsError

LimiterFactory = Callable[..., Limiter]


@pytest.fixture(name="pools")
async def fx_pools(database: DatabaseUnderTest) -> AsyncIterator[list[Pool]]:
    """Two pools as the application role: two gateway tasks' views of one database."""
    pools = [await create_pool(database.app_dsn, min_size=0, max_size=4) for _ in range(2)]
    yield pools
    for pool in pools:
        await pool.close()


@pytest.fixture(name="limiter")
def fx_limiter(pools: list[Pool]) -> LimiterFactory:
    def make(task: int = 0, **limits: int) -> Limiter:
        values = {"per_minute": 100, "daily_uploads": 100, "daily_llm_calls": 100, **limits}
        return Limiter(pools[task], **values)

    return make


async def _outcomes(calls: list[asyncio.Future[None] | object]) -> list[BaseException | None]:
    return list(await asyncio.gather(*calls, return_exceptions=True))  # type: ignore[arg-type]


def _window_start() -> int:
    return int(time.time() // WINDOW_SECONDS) * WINDOW_SECONDS


async def _wait_for_fresh_window(margin: float = 10) -> None:
    """Sleep past a window boundary if fewer than ``margin`` seconds of this window are left."""
    left = _window_start() + WINDOW_SECONDS - time.time()
    if left < margin:
        await asyncio.sleep(left + 0.1)


async def test_a_burst_from_two_tasks_admits_exactly_the_limit(limiter: LimiterFactory) -> None:
    """40 concurrent requests of one user through two limiters: 25 pass, 15 get Retry-After."""
    await _wait_for_fresh_window()
    first, second = limiter(0, per_minute=25), limiter(1, per_minute=25)
    calls = [(first if n % 2 else second).check_rate("user-a") for n in range(40)]
    outcomes = await _outcomes(calls)
    refused = [error for error in outcomes if error is not None]
    assert 15 == len(refused)
    assert all(isinstance(error, TooManyRequestsError) for error in refused)
    assert all(1 <= error.retry_after <= WINDOW_SECONDS for error in refused)  # type: ignore[union-attr]
    assert {"rate_limited"} == {error.code for error in refused}  # type: ignore[union-attr]


async def test_users_do_not_share_a_limit(limiter: LimiterFactory) -> None:
    """One user at the limit leaves another user's requests untouched."""
    await _wait_for_fresh_window()
    shared = limiter(per_minute=3)
    for _ in range(3):
        await shared.check_rate("user-a")
    with pytest.raises(TooManyRequestsError):
        await shared.check_rate("user-a")
    for _ in range(3):
        await shared.check_rate("user-b")


async def test_the_previous_window_counts_by_the_share_still_inside_the_minute(
    limiter: LimiterFactory, database: DatabaseUnderTest
) -> None:
    """A full previous window admits only as many requests as its share has shrunk by."""
    await _wait_for_fresh_window(margin=20)
    owner = await asyncpg.connect(database.owner_dsn)
    try:
        await owner.execute(
            "INSERT INTO rate_limits (user_id, window_start, previous_count, current_count)"
            " VALUES ('user-a', $1, 0, 1000)",
            _window_start() - WINDOW_SECONDS,
        )
    finally:
        await owner.close()
    before = (time.time() - _window_start()) / WINDOW_SECONDS
    outcomes = await _outcomes([limiter(per_minute=1000).check_rate("user-a") for _ in range(1000)])
    after = (time.time() - _window_start()) / WINDOW_SECONDS
    admitted = sum(1 for outcome in outcomes if outcome is None)
    # Admitted while 1000 * (1 - elapsed) + admitted < 1000: about 1000 * elapsed of them.
    assert int(1000 * before) <= admitted <= int(1000 * after) + 1


async def test_retry_after_says_when_the_full_window_lets_one_more_in(
    limiter: LimiterFactory,
) -> None:
    """With the current window full, Retry-After is the rest of the window (within a second)."""
    await _wait_for_fresh_window()
    gate = limiter(per_minute=3)
    for _ in range(3):
        await gate.check_rate("user-a")
    left = _window_start() + WINDOW_SECONDS - time.time()
    with pytest.raises(TooManyRequestsError) as refused:
        await gate.check_rate("user-a")
    assert left - 1 <= refused.value.retry_after <= left + 1


async def test_quota_spends_are_atomic_across_tasks(limiter: LimiterFactory) -> None:
    """12 concurrent uploads against a quota of 5 from two tasks: exactly 5 are counted."""
    tasks = [limiter(0, daily_uploads=5), limiter(1, daily_uploads=5)]
    outcomes = await _outcomes([tasks[n % 2].spend("user-a", "uploads") for n in range(12)])
    refused = [error for error in outcomes if error is not None]
    assert 7 == len(refused)
    assert {"uploads_quota_exceeded"} == {error.code for error in refused}  # type: ignore[union-attr]
    assert all(1 <= error.retry_after <= 86400 for error in refused)  # type: ignore[union-attr]
    # A new limiter (a restarted gateway) finds the day's count where it was.
    with pytest.raises(TooManyRequestsError):
        await limiter(0, daily_uploads=5).spend("user-a", "uploads")
    await limiter(0, daily_llm_calls=5).spend("user-a", "llm_calls")


async def test_a_spend_larger_than_what_is_left_spends_nothing(limiter: LimiterFactory) -> None:
    """Refused spends leave the count alone: 3 of 4 used, a spend of 2 fails, a spend of 1 fits."""
    quota = limiter(daily_uploads=4)
    await quota.spend("user-a", "uploads", 3)
    with pytest.raises(TooManyRequestsError):
        await quota.spend("user-a", "uploads", 2)
    await quota.spend("user-a", "uploads", 1)
    with pytest.raises(TooManyRequestsError):
        await quota.spend("user-a", "uploads", 5)


async def test_a_new_day_starts_a_new_count_and_prune_removes_what_expired(
    limiter: LimiterFactory, database: DatabaseUnderTest
) -> None:
    """Yesterday's count does not limit today; prune deletes old windows and past days only."""
    quota = limiter(daily_uploads=2)
    await quota.spend("user-a", "uploads", 2)
    await quota.spend("user-b", "uploads", 1)
    await quota.check_rate("user-c")
    owner = await asyncpg.connect(database.owner_dsn)
    try:
        await owner.execute("UPDATE usage_quotas SET day = day - 1 WHERE user_id = 'user-a'")
        await owner.execute(
            "INSERT INTO rate_limits (user_id, window_start) VALUES ('user-d', $1)",
            _window_start() - 3 * WINDOW_SECONDS,
        )
        assert 2 == await quota.prune()
        left = await owner.fetch(
            "SELECT user_id FROM usage_quotas UNION ALL SELECT user_id FROM rate_limits ORDER BY 1"
        )
        await owner.execute("UPDATE usage_quotas SET day = day - 1 WHERE user_id = 'user-b'")
    finally:
        await owner.close()
    assert ["user-b", "user-c"] == [row["user_id"] for row in left]
    await quota.spend("user-b", "uploads", 2)  # yesterday's 1 no longer counts


async def test_the_services_role_cannot_read_or_write_the_counters(
    database: DatabaseUnderTest,
) -> None:
    """Only the functions touch the tables: a direct SELECT or UPDATE is refused."""
    connection = await asyncpg.connect(database.app_dsn)
    try:
        for statement in (
            "SELECT * FROM rate_limits",
            "SELECT * FROM usage_quotas",
            "UPDATE usage_quotas SET used = 0",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(statement)
    finally:
        await connection.close()


async def test_an_unreachable_database_is_a_503_for_every_waiting_request() -> None:
    """No answer from PostgreSQL: each request in the batch gets 503, none hangs or passes; a
    quota check is 503 too, recording finished work is not an error."""
    pool = await create_pool(
        f"postgresql://nobody:x@127.0.0.1:{free_port()}/none", min_size=0, max_size=1
    )
    try:
        gate = Limiter(pool, per_minute=10, daily_uploads=1, daily_llm_calls=1)
        outcomes = await asyncio.wait_for(
            _outcomes([gate.check_rate("user-a") for _ in range(5)]), timeout=10
        )
        with pytest.raises(ServiceUnavailableError):
            await gate.spend("user-a", "uploads")
        with pytest.raises(ServiceUnavailableError):
            await gate.check("user-a", "llm_calls")
        await gate.record("user-a", "llm_calls")  # work already done: logged, never an error
    finally:
        await pool.close()
    assert 5 == sum(isinstance(outcome, ServiceUnavailableError) for outcome in outcomes)


async def test_check_counts_nothing_and_record_counts_past_the_quota(
    limiter: LimiterFactory,
) -> None:
    """check() refuses only what would exceed the quota and spends nothing; record() counts work
    already done even past the quota, after which check() refuses."""
    quota = limiter(daily_llm_calls=2)
    await quota.check("user-a", "llm_calls", 2)
    with pytest.raises(TooManyRequestsError):
        await quota.check("user-a", "llm_calls", 3)
    await quota.record("user-a", "llm_calls")
    await quota.check("user-a", "llm_calls")
    await quota.record("user-a", "llm_calls", 2)  # 3 of 2: the work happened, it is counted
    with pytest.raises(TooManyRequestsError) as refused:
        await quota.check("user-a", "llm_calls")
    assert "llm_calls_quota_exceeded" == refused.value.code
    with pytest.raises(TooManyRequestsError):
        await limiter(1, daily_llm_calls=2).spend("user-a", "llm_calls")
