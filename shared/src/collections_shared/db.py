"""asyncpg pool with the pgvector codec, and tenant-scoped transactions.

Row-level security is the second lock behind every ``WHERE user_id = $1``: the services connect
as a role that is neither owner nor superuser, and every transaction states its tenant with
``set_config('app.user_id', $1, true)`` (``SET LOCAL``), which ends with the transaction. A pooled
connection reused without it sees no rows at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy
from pgvector.asyncpg import register_vector

if TYPE_CHECKING:
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]
    Connection: TypeAlias = PoolConnectionProxy[asyncpg.Record]
else:
    Pool = asyncpg.Pool
    Connection = PoolConnectionProxy


async def _init_connection(connection: Any) -> None:
    await register_vector(connection)
    await connection.set_type_codec(
        "jsonb", encoder=_encode_json, decoder=_decode_json, schema="pg_catalog"
    )


def _encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _decode_json(value: str) -> Any:
    return msgspec.json.decode(value)


async def create_pool(
    dsn: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    reset: Callable[[Any], Awaitable[None]] | None = None,
) -> Pool:
    """Open a pool whose connections know the ``vector`` and ``jsonb`` types.

    ``reset`` replaces asyncpg's reset query on release (one more round trip each time), for a
    pool whose users never leave session state behind.
    """
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        command_timeout=30,
        max_inactive_connection_lifetime=300,
        reset=reset,
    )
    assert pool is not None
    return pool


def _literal(value: str) -> str:
    """``value`` as an SQL string literal (standard_conforming_strings is on: only ' is special)."""
    if "\x00" in value:
        msg = "a user id cannot contain NUL"
        raise ValueError(msg)
    return "'" + value.replace("'", "''") + "'"


@asynccontextmanager
async def tenant_transaction(pool: Pool, user_id: str) -> AsyncIterator[Connection]:
    """A transaction in which row-level security admits only ``user_id``'s rows.

    ``BEGIN`` and the tenant setting travel as one simple query (one round trip instead of two
    on every request); the id is quoted as a literal because a multi-statement query cannot take
    parameters.
    """
    async with pool.acquire() as connection:
        await connection.execute(
            f"BEGIN; SELECT set_config('app.user_id', {_literal(user_id)}, true)"
        )
        try:
            yield connection
        except BaseException:
            if not connection.is_closed():
                with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    await connection.execute("ROLLBACK")
            raise
        await connection.execute("COMMIT")


async def ping(pool: Pool) -> None:
    """Raise unless the database answers."""
    async with pool.acquire(timeout=3) as connection:
        await connection.fetchval("SELECT 1", timeout=3)
