"""Album links: the owner's writes (in a tenant transaction) and a visitor's reads (no tenant).

A visitor's connection has no ``app.user_id``, so row-level security shows it no row of any
table; it reads only through the ``SECURITY DEFINER`` functions of migration 0005, which take the
token's hash and return exactly what a link may show while it is live.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from collections_gateway.listing import Position
from collections_shared.db import Connection


async def save_share(
    connection: Connection,
    user_id: str,
    album_id: uuid.UUID,
    *,
    token_hash: bytes,
    expires_at: datetime,
    include_analysis: bool,
) -> None:
    """Create the album's link, or replace it (the previous token stops working at once)."""
    await connection.execute(
        """INSERT INTO album_shares (album_id, user_id, token_hash, include_analysis, expires_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (album_id) DO UPDATE
              SET token_hash = EXCLUDED.token_hash, include_analysis = EXCLUDED.include_analysis,
                  expires_at = EXCLUDED.expires_at, created_at = now()""",
        album_id,
        user_id,
        token_hash,
        include_analysis,
        expires_at,
    )


async def delete_share(connection: Connection, user_id: str, album_id: uuid.UUID) -> bool:
    result: str = await connection.execute(
        "DELETE FROM album_shares WHERE album_id = $1 AND user_id = $2", album_id, user_id
    )
    return result != "DELETE 0"


class SharedAlbumRow(msgspec.Struct, frozen=True, kw_only=True):
    album_id: uuid.UUID
    name: str
    description: str
    expires_at: datetime
    include_analysis: bool
    item_count: int


class SharedItemRow(msgspec.Struct, frozen=True, kw_only=True):
    item_id: uuid.UUID
    taken_key: datetime
    thumbnail_key: str
    preview_key: str
    width: int | None
    height: int | None
    summary: str | None
    tags: list[str] | None


async def shared_album(connection: Connection, token_hash: bytes) -> SharedAlbumRow | None:
    """The album a live link opens, or None (unknown, revoked and expired look the same)."""
    row = await connection.fetchrow("SELECT * FROM collections_shared_album($1)", token_hash)
    return SharedAlbumRow(**dict(row)) if row else None


async def shared_items(
    connection: Connection,
    token_hash: bytes,
    *,
    only_item: uuid.UUID | None = None,
    after: Position | None = None,
    limit: int = 1,
) -> list[SharedItemRow]:
    """The link's current members with derivatives, newest taken first."""
    rows = await connection.fetch(
        "SELECT * FROM collections_shared_album_items($1, $2, $3, $4, $5)",
        token_hash,
        only_item,
        after.key if after else None,
        after.item_id if after else None,
        limit,
    )
    return [
        SharedItemRow(**{**dict(row), "tags": list(row["tags"]) if row["tags"] else None})
        for row in rows
    ]
