"""Albums: create, list, rename, delete, members, and their read-only links. No framework types.

An album holds references: removing a member or deleting the album never deletes an item, and
deleting an item removes it from every album. Another user's album id is a 404 everywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import msgspec

from collections_gateway.curation_schemas import (
    AlbumChange,
    AlbumCreate,
    AlbumList,
    AlbumOut,
    BatchResult,
    Cover,
    Outcome,
    ShareOut,
    ShareRequest,
    ShareState,
    tally,
)
from collections_gateway.repositories import albums as album_sql
from collections_gateway.repositories import sharing as share_sql
from collections_gateway.repositories.albums import AlbumRow
from collections_gateway.s3objects import S3Objects
from collections_gateway.sharing import new_token
from collections_shared.db import Connection, Pool, tenant_transaction
from collections_shared.errors import ConflictError, NotFoundError, ValidationFailedError

MAX_ALBUMS = 1000


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise ValidationFailedError("an album needs a name", code="empty_name")
    return name


MembershipChange = Callable[
    [Connection, str, uuid.UUID, list[uuid.UUID]], Awaitable[dict[uuid.UUID, bool]]
]
"""Adds or removes album members; says per item whether it changed anything."""


class AlbumsService:
    def __init__(self, pool: Pool, s3: S3Objects) -> None:
        self.pool = pool
        self.s3 = s3

    async def create(self, user_id: str, data: AlbumCreate) -> AlbumOut:
        album_id = uuid.uuid4()
        async with tenant_transaction(self.pool, user_id) as connection:
            if await album_sql.count_albums(connection, user_id) >= MAX_ALBUMS:
                raise ConflictError(
                    f"an account can have {MAX_ALBUMS} albums", code="too_many_albums"
                )
            await album_sql.insert_album(
                connection, user_id, album_id, _name(data.name), data.description.strip()
            )
            row = await album_sql.get_album(connection, user_id, album_id)
        assert row is not None
        return await self._out(row)

    async def list_albums(self, user_id: str) -> AlbumList:
        async with tenant_transaction(self.pool, user_id) as connection:
            rows = await album_sql.list_albums(connection, user_id)
        return AlbumList(albums=[await self._out(row) for row in rows])

    async def get(self, user_id: str, album_id: uuid.UUID) -> AlbumOut:
        async with tenant_transaction(self.pool, user_id) as connection:
            row = await album_sql.get_album(connection, user_id, album_id)
        if row is None:
            raise NotFoundError("no such album")
        return await self._out(row)

    async def require(self, user_id: str, album_id: uuid.UUID) -> None:
        """404 unless ``album_id`` is one of the caller's albums (search and chat scopes)."""
        async with tenant_transaction(self.pool, user_id) as connection:
            if not await album_sql.album_exists(connection, user_id, album_id):
                raise NotFoundError("no such album")

    async def update(self, user_id: str, album_id: uuid.UUID, change: AlbumChange) -> AlbumOut:
        changes: dict[str, object] = {}
        if change.name is not msgspec.UNSET:
            changes["name"] = _name(change.name)
        if change.description is not msgspec.UNSET:
            changes["description"] = change.description.strip()
        if change.cover_item_id is not msgspec.UNSET:
            changes["cover_item_id"] = change.cover_item_id
        async with tenant_transaction(self.pool, user_id) as connection:
            if not await album_sql.lock_album(connection, user_id, album_id):
                raise NotFoundError("no such album")
            cover = change.cover_item_id
            if isinstance(cover, uuid.UUID) and not await album_sql.is_member(
                connection, user_id, album_id, cover
            ):
                raise ValidationFailedError(
                    "the cover must be one of the album's items", code="cover_not_in_album"
                )
            if changes:
                await album_sql.update_album(connection, user_id, album_id, changes)
            row = await album_sql.get_album(connection, user_id, album_id)
        assert row is not None
        return await self._out(row)

    async def delete(self, user_id: str, album_id: uuid.UUID) -> None:
        """Delete the album and its link; its items stay in the library."""
        async with tenant_transaction(self.pool, user_id) as connection:
            if not await album_sql.delete_album(connection, user_id, album_id):
                raise NotFoundError("no such album")

    async def add_items(
        self, user_id: str, album_id: uuid.UUID, item_ids: list[uuid.UUID]
    ) -> BatchResult:
        """Add items (idempotent): ``done`` added, ``unchanged`` already a member."""
        return await self._change_members(user_id, album_id, item_ids, album_sql.add_items)

    async def remove_items(
        self, user_id: str, album_id: uuid.UUID, item_ids: list[uuid.UUID]
    ) -> BatchResult:
        """Remove members (idempotent): ``done`` removed, ``unchanged`` was not a member."""
        return await self._change_members(user_id, album_id, item_ids, album_sql.remove_items)

    async def _change_members(
        self,
        user_id: str,
        album_id: uuid.UUID,
        item_ids: list[uuid.UUID],
        change: MembershipChange,
    ) -> BatchResult:
        # The album row is locked so concurrent changes of one album's members serialise.
        wanted = list(dict.fromkeys(item_ids))
        async with tenant_transaction(self.pool, user_id) as connection:
            if not await album_sql.lock_album(connection, user_id, album_id):
                raise NotFoundError("no such album")
            changed = await change(connection, user_id, album_id, wanted)
            if any(changed.values()):
                await album_sql.touch_album(connection, user_id, album_id)
        return _batch(wanted, changed)

    async def share(
        self, user_id: str, album_id: uuid.UUID, request: ShareRequest, *, base_url: str
    ) -> ShareOut:
        """A new link to the album; an earlier one stops working."""
        token, hashed = new_token()
        expires_at = datetime.now(UTC) + timedelta(seconds=request.expires_in)
        async with tenant_transaction(self.pool, user_id) as connection:
            if not await album_sql.lock_album(connection, user_id, album_id):
                raise NotFoundError("no such album")
            await share_sql.save_share(
                connection,
                user_id,
                album_id,
                token_hash=hashed,
                expires_at=expires_at,
                include_analysis=request.include_analysis,
            )
        base = base_url.rstrip("/")
        return ShareOut(
            token=token,
            url=f"{base}/shared#{token}",
            api_url=f"{base}/shared/{token}",
            expires_at=expires_at,
            include_analysis=request.include_analysis,
        )

    async def unshare(self, user_id: str, album_id: uuid.UUID) -> None:
        """Revoke the album's link at once (idempotent: an album without one is fine)."""
        async with tenant_transaction(self.pool, user_id) as connection:
            if not await album_sql.album_exists(connection, user_id, album_id):
                raise NotFoundError("no such album")
            await share_sql.delete_share(connection, user_id, album_id)

    async def _out(self, row: AlbumRow) -> AlbumOut:
        cover = None
        if row.cover_id is not None and row.cover_thumbnail is not None:
            cover = Cover(
                item_id=row.cover_id,
                thumbnail_url=await self.s3.url(row.cover_thumbnail, "image/webp"),
            )
        share = None
        if row.share_expires_at is not None:
            share = ShareState(
                expires_at=row.share_expires_at,
                include_analysis=bool(row.share_include_analysis),
            )
        return AlbumOut(
            id=row.id,
            name=row.name,
            description=row.description,
            item_count=row.item_count,
            cover=cover,
            created_at=row.created_at,
            updated_at=row.updated_at,
            share=share,
        )


def _batch(wanted: list[uuid.UUID], changed: dict[uuid.UUID, bool]) -> BatchResult:
    outcomes = [
        Outcome(item_id=item_id, status="failed", code="not_found", detail="no such item")
        if item_id not in changed
        else Outcome(item_id=item_id, status="done" if changed[item_id] else "unchanged")
        for item_id in wanted
    ]
    return BatchResult(results=outcomes, **tally(outcomes))
