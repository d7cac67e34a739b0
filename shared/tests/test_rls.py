"""Row-level security is a second lock behind every WHERE user_id = ... (as the services' role)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from collections_devtools.testing.fixtures import DatabaseUnderTest
from collections_shared.db import Pool, create_pool, tenant_transaction


async def _add_item(pool: Pool, user_id: str) -> uuid.UUID:
    item_id = uuid.uuid4()
    async with tenant_transaction(pool, user_id) as connection:
        await connection.execute(
            "INSERT INTO items (id, user_id, status, original_key) VALUES ($1, $2, 'uploaded', $3)",
            item_id,
            user_id,
            f"{user_id}/images/{item_id}.jpg",
        )
    return item_id


async def test_query_without_where_sees_only_the_callers_rows(database: DatabaseUnderTest) -> None:
    """A SELECT with no tenant filter still returns only the transaction's tenant's items."""
    pool = await create_pool(database.app_dsn, max_size=2)
    try:
        mine = {await _add_item(pool, "user-a") for _ in range(3)}
        await _add_item(pool, "user-b")
        async with tenant_transaction(pool, "user-a") as connection:
            seen = {row["id"] for row in await connection.fetch("SELECT id FROM items")}
    finally:
        await pool.close()
    assert mine == seen


async def test_pooled_connection_without_the_setting_sees_nothing(
    database: DatabaseUnderTest,
) -> None:
    """After a tenant transaction ends, the same pooled connection sees no rows at all."""
    pool = await create_pool(database.app_dsn, min_size=1, max_size=1)
    try:
        await _add_item(pool, "user-a")
        async with pool.acquire() as connection:
            unset = await connection.fetchval("SELECT count(*) FROM items")
            setting = await connection.fetchval("SELECT current_setting('app.user_id', true)")
    finally:
        await pool.close()
    assert 0 == unset
    assert setting in (None, "")


async def test_writing_another_users_row_is_refused(database: DatabaseUnderTest) -> None:
    """WITH CHECK stops a tenant from inserting or moving rows into someone else's name."""
    pool = await create_pool(database.app_dsn, max_size=1)
    try:
        item_id = await _add_item(pool, "user-a")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await _add_item_as(pool, "user-a", "user-b")
        async with tenant_transaction(pool, "user-a") as connection:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(
                    "UPDATE items SET user_id = 'user-b' WHERE id = $1", item_id
                )
    finally:
        await pool.close()


async def _add_item_as(pool: Pool, tenant: str, owner: str) -> None:
    async with tenant_transaction(pool, tenant) as connection:
        await connection.execute(
            "INSERT INTO items (id, user_id, status, original_key)"
            " VALUES ($1, $2, 'uploaded', 'k')",
            uuid.uuid4(),
            owner,
        )


async def test_other_tenants_rows_cannot_be_updated_or_deleted(database: DatabaseUnderTest) -> None:
    """UPDATE and DELETE without a tenant filter touch only the caller's rows."""
    pool = await create_pool(database.app_dsn, max_size=1)
    try:
        theirs = await _add_item(pool, "user-b")
        async with tenant_transaction(pool, "user-a") as connection:
            updated = await connection.execute("UPDATE items SET status = 'failed'")
            deleted = await connection.execute("DELETE FROM items")
        async with tenant_transaction(pool, "user-b") as connection:
            status = await connection.fetchval("SELECT status FROM items WHERE id = $1", theirs)
    finally:
        await pool.close()
    assert ("UPDATE 0", "DELETE 0", "uploaded") == (updated, deleted, status)


async def test_tenant_id_with_quotes_is_a_literal_not_sql(database: DatabaseUnderTest) -> None:
    """A tenant id full of quotes is stored as-is by set_config and injects nothing."""
    pool = await create_pool(database.app_dsn, max_size=1)
    hostile = "x'); DROP TABLE items; --"
    try:
        async with tenant_transaction(pool, hostile) as connection:
            seen = await connection.fetchval("SELECT current_setting('app.user_id', true)")
        async with tenant_transaction(pool, "user-a") as connection:
            still = await connection.fetchval("SELECT count(*) FROM items")
    finally:
        await pool.close()
    assert hostile == seen
    assert 0 == still


async def test_failed_tenant_transaction_rolls_back(database: DatabaseUnderTest) -> None:
    """An exception inside the block undoes its writes and leaves the connection usable."""
    pool = await create_pool(database.app_dsn, max_size=1)
    try:
        with pytest.raises(RuntimeError):
            async with tenant_transaction(pool, "user-a") as connection:
                await connection.execute(
                    "INSERT INTO items (id, user_id, status, original_key)"
                    " VALUES ($1, 'user-a', 'uploaded', 'k')",
                    uuid.uuid4(),
                )
                raise RuntimeError
        async with tenant_transaction(pool, "user-a") as connection:
            count = await connection.fetchval("SELECT count(*) FROM items")
    finally:
        await pool.close()
    assert 0 == count


async def test_every_table_the_services_can_read_has_row_level_security(
    database: DatabaseUnderTest,
) -> None:
    """No table the services' role may read lacks RLS, so a new table cannot open a hole."""
    connection = await asyncpg.connect(database.owner_dsn)
    try:
        readable = await connection.fetch(
            """SELECT c.relname, c.relrowsecurity FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind = 'r'
                  AND has_table_privilege('collections_app', c.oid, 'SELECT')"""
        )
    finally:
        await connection.close()
    assert {
        *("items", "analyses", "embeddings", "processed_events", "preferences"),
        *("albums", "album_items", "album_shares"),
    } <= {row["relname"] for row in readable}
    assert [] == [row["relname"] for row in readable if not row["relrowsecurity"]]
