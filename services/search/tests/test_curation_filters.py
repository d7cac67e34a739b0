"""Search filters of curation: an album scope and favourites, in the SQL every arm shares."""

from __future__ import annotations

import uuid

import asyncpg

from collections_devtools.testing.fixtures import DatabaseUnderTest
from collections_search.repository import keyword
from collections_shared.db import create_pool, tenant_transaction
from collections_shared.domain.search import Filters


async def _item(connection: asyncpg.Connection, user_id: str, *, favorite: bool) -> uuid.UUID:  # type: ignore[type-arg]
    item_id, analysis_id = uuid.uuid4(), uuid.uuid4()
    await connection.execute(
        """INSERT INTO items (id, user_id, status, original_key, favorited_at)
           VALUES ($1, $2, 'searchable', 'k', CASE WHEN $3 THEN now() END)""",
        item_id, user_id, favorite,
    )  # fmt: skip
    await connection.execute(
        """INSERT INTO analyses (id, item_id, user_id, version, source_event_id, provider, model,
               prompt_version, category, summary, description, tags, objects, visible_text,
               colors, setting, data)
           VALUES ($1, $2, $3, 1, $4, 'local', 'm', 'p', 'nature', 'A lighthouse at dusk.', '',
                   '{lighthouse}', '{}', '', '{}', '', '{}')""",
        analysis_id, item_id, user_id, uuid.uuid4(),
    )  # fmt: skip
    await connection.execute(
        "UPDATE items SET latest_analysis_id = $2 WHERE id = $1", item_id, analysis_id
    )
    return item_id


async def _album(
    connection: asyncpg.Connection,  # type: ignore[type-arg]
    user_id: str,
    members: list[uuid.UUID],
) -> uuid.UUID:
    album_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO albums (id, user_id, name) VALUES ($1, $2, 'a')", album_id, user_id
    )
    await connection.executemany(
        """INSERT INTO album_items (album_id, item_id, user_id, taken_key, uploaded_key)
           VALUES ($1, $2, $3, now(), now())""",
        [(album_id, member, user_id) for member in members],
    )
    return album_id


async def test_album_and_favourite_filters_narrow_keyword_search(
    database: DatabaseUnderTest,
) -> None:
    """album_id keeps to the album's members; favorite true/false splits starred from not."""
    owner = await asyncpg.connect(database.owner_dsn)
    try:
        starred = await _item(owner, "user-a", favorite=True)
        plain = await _item(owner, "user-a", favorite=False)
        theirs = await _item(owner, "user-b", favorite=True)
        album = await _album(owner, "user-a", [plain])
        foreign_album = await _album(owner, "user-b", [theirs])
    finally:
        await owner.close()
    pool = await create_pool(database.app_dsn, max_size=1)
    try:
        async with tenant_transaction(pool, "user-a") as connection:

            async def found(**filters: object) -> set[uuid.UUID]:
                hits = await keyword(connection, "user-a", "lighthouse", Filters(**filters), 10)  # type: ignore[arg-type]
                return {item_id for item_id, _ in hits}

            assert {starred, plain} == await found()
            assert {plain} == await found(album_id=album)
            assert {starred} == await found(favorite=True)
            assert {plain} == await found(favorite=False)
            assert set() == await found(album_id=album, favorite=True)
            assert set() == await found(album_id=foreign_album)
    finally:
        await pool.close()
