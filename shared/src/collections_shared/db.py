"""asyncpg pool with the pgvector codec, and tenant-scoped transactions.

Row-level security is the second lock behind every ``WHERE user_id = $1``: the services connect
as a role that is neither owner nor superuser, and every transaction states its tenant with
``set_config('app.user_id', $1, true)`` (``SET LOCAL``), which ends with the transaction. A pooled
connection reused without it sees no rows at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
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


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> Pool:
    """Open a pool whose connections know the ``vector`` and ``jsonb`` types."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        command_timeout=30,
        max_inactive_connection_lifetime=300,
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def tenant_transaction(pool: Pool, user_id: str) -> AsyncIterator[Connection]:
    """A transaction in which row-level security admits only ``user_id``'s rows."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT set_config('app.user_id', $1, true)", user_id)
        yield connection


async def ping(pool: Pool) -> None:
    """Raise unless the database answers."""
    async with pool.acquire(timeout=3) as connection:
        await connection.fetchval("SELECT 1", timeout=3)
