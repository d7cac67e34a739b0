"""Albums and their members. Deleting an album (or a member) never deletes an item."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from collections_shared.db import Connection


class AlbumRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    description: str
    cover_item_id: uuid.UUID | None
    """The owner's choice of cover, if any (it may have left the album since)."""
    created_at: datetime
    updated_at: datetime
    item_count: int
    cover_id: uuid.UUID | None
    """The cover shown: the chosen one while it is a member with a thumbnail, else the most
    recently added member with one."""
    cover_thumbnail: str | None
    share_expires_at: datetime | None
    share_include_analysis: bool | None


_SELECT = """
SELECT a.id, a.name, a.description, a.cover_item_id, a.created_at, a.updated_at,
       (SELECT count(*) FROM album_items ai WHERE ai.album_id = a.id) AS item_count,
       coalesce(chosen.id, latest.id) AS cover_id,
       coalesce(chosen.thumbnail, latest.thumbnail) AS cover_thumbnail,
       s.expires_at AS share_expires_at, s.include_analysis AS share_include_analysis
  FROM albums a
  LEFT JOIN album_shares s ON s.album_id = a.id AND s.expires_at > now()
  LEFT JOIN LATERAL (
        SELECT i.id, i.derivative_keys ->> 'thumbnail' AS thumbnail
          FROM album_items ai JOIN items i ON i.id = ai.item_id
         WHERE ai.album_id = a.id AND ai.item_id = a.cover_item_id
           AND i.derivative_keys ? 'thumbnail'
       ) chosen ON true
  LEFT JOIN LATERAL (
        SELECT i.id, i.derivative_keys ->> 'thumbnail' AS thumbnail
          FROM album_items ai JOIN items i ON i.id = ai.item_id
         WHERE ai.album_id = a.id AND i.derivative_keys ? 'thumbnail'
         ORDER BY ai.added_at DESC
         LIMIT 1
       ) latest ON true
"""


async def insert_album(
    connection: Connection, user_id: str, album_id: uuid.UUID, name: str, description: str
) -> None:
    await connection.execute(
        "INSERT INTO albums (id, user_id, name, description) VALUES ($1, $2, $3, $4)",
        album_id,
        user_id,
        name,
        description,
    )


async def count_albums(connection: Connection, user_id: str) -> int:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM albums WHERE user_id = $1", user_id
    )
    return count


async def list_albums(connection: Connection, user_id: str) -> list[AlbumRow]:
    """Every album of the caller, newest first."""
    rows = await connection.fetch(
        f"{_SELECT} WHERE a.user_id = $1 ORDER BY a.created_at DESC, a.id DESC", user_id
    )
    return [AlbumRow(**dict(row)) for row in rows]


async def get_album(connection: Connection, user_id: str, album_id: uuid.UUID) -> AlbumRow | None:
    row = await connection.fetchrow(
        f"{_SELECT} WHERE a.user_id = $1 AND a.id = $2", user_id, album_id
    )
    return AlbumRow(**dict(row)) if row else None


async def album_exists(connection: Connection, user_id: str, album_id: uuid.UUID) -> bool:
    found = await connection.fetchval(
        "SELECT true FROM albums WHERE id = $1 AND user_id = $2", album_id, user_id
    )
    return bool(found)


async def lock_album(connection: Connection, user_id: str, album_id: uuid.UUID) -> bool:
    """Hold the album until the transaction ends; False if the caller has no such album.

    Changes to one album's members take turns (each also bumps ``updated_at``: two holders of a
    shared lock would deadlock there), and a concurrent delete waits.
    """
    found = await connection.fetchval(
        "SELECT true FROM albums WHERE id = $1 AND user_id = $2 FOR NO KEY UPDATE",
        album_id,
        user_id,
    )
    return bool(found)


async def update_album(
    connection: Connection,
    user_id: str,
    album_id: uuid.UUID,
    changes: dict[str, object],
) -> bool:
    """Set the given columns (names are fixed by the caller, values bound); False if no album."""
    assignments = [f"{column} = ${n}" for n, column in enumerate(changes, start=3)]
    result: str = await connection.execute(
        f"""UPDATE albums SET {", ".join([*assignments, "updated_at = now()"])}
             WHERE id = $1 AND user_id = $2""",
        album_id,
        user_id,
        *changes.values(),
    )
    return result != "UPDATE 0"


async def touch_album(connection: Connection, user_id: str, album_id: uuid.UUID) -> None:
    await connection.execute(
        "UPDATE albums SET updated_at = now() WHERE id = $1 AND user_id = $2", album_id, user_id
    )


async def delete_album(connection: Connection, user_id: str, album_id: uuid.UUID) -> bool:
    """Delete the album, its memberships and its link; the items stay."""
    result: str = await connection.execute(
        "DELETE FROM albums WHERE id = $1 AND user_id = $2", album_id, user_id
    )
    return result != "DELETE 0"


async def delete_all_albums(connection: Connection, user_id: str) -> int:
    result: str = await connection.execute("DELETE FROM albums WHERE user_id = $1", user_id)
    return int(result.rsplit(" ", 1)[-1])


async def is_member(
    connection: Connection, user_id: str, album_id: uuid.UUID, item_id: uuid.UUID
) -> bool:
    found = await connection.fetchval(
        "SELECT true FROM album_items WHERE album_id = $1 AND item_id = $2 AND user_id = $3",
        album_id,
        item_id,
        user_id,
    )
    return bool(found)


async def add_items(
    connection: Connection, user_id: str, album_id: uuid.UUID, item_ids: list[uuid.UUID]
) -> dict[uuid.UUID, bool]:
    """Add the caller's items among ``item_ids``: item -> whether it was added just now.

    Items already in the album map to False; ids that are not the caller's items are absent.
    The items are locked (``FOR KEY SHARE``) so one deleted meanwhile cannot break the insert.
    """
    rows = await connection.fetch(
        """WITH wanted AS (
               SELECT i.id, coalesce(i.taken_at, i.created_at) AS taken_key,
                      i.created_at AS uploaded_key
                 FROM items i
                WHERE i.user_id = $1 AND i.id = ANY($3::uuid[])
                  FOR KEY SHARE
           ), added AS (
               INSERT INTO album_items (album_id, item_id, user_id, taken_key, uploaded_key)
               SELECT $2, id, $1, taken_key, uploaded_key FROM wanted
               ON CONFLICT (album_id, item_id) DO NOTHING
               RETURNING item_id
           )
           SELECT w.id, a.item_id IS NOT NULL AS added
             FROM wanted w LEFT JOIN added a ON a.item_id = w.id""",
        user_id,
        album_id,
        item_ids,
    )
    return {row["id"]: row["added"] for row in rows}


async def remove_items(
    connection: Connection, user_id: str, album_id: uuid.UUID, item_ids: list[uuid.UUID]
) -> dict[uuid.UUID, bool]:
    """Remove members: each of the caller's items among ``item_ids`` -> whether it was one."""
    rows = await connection.fetch(
        """WITH removed AS (
               DELETE FROM album_items
                WHERE album_id = $2 AND user_id = $1 AND item_id = ANY($3::uuid[])
               RETURNING item_id
           )
           SELECT i.id, r.item_id IS NOT NULL AS removed
             FROM items i LEFT JOIN removed r ON r.item_id = i.id
            WHERE i.user_id = $1 AND i.id = ANY($3::uuid[])""",
        user_id,
        album_id,
        item_ids,
    )
    return {row["id"]: row["removed"] for row in rows}
