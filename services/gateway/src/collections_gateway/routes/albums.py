"""Albums and their links: thin handlers over :class:`AlbumsService`."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import State

from collections_gateway.albums import AlbumsService
from collections_gateway.curation_schemas import (
    AlbumChange,
    AlbumCreate,
    AlbumList,
    AlbumOut,
    BatchResult,
    ItemIdList,
    ShareOut,
    ShareRequest,
)
from collections_shared.auth import Principal

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


def _public_base(request: Request[Any, Any, State]) -> str:
    configured: str = request.app.state.public_url
    return configured or str(request.base_url)


class AlbumsController(Controller):
    path = "/albums"
    tags = ["albums"]
    security = BEARER

    @post("/", status_code=201, summary="Create an album", opt={"problems": [409]})
    async def create(
        self, principal: Principal, albums: AlbumsService, data: AlbumCreate
    ) -> AlbumOut:
        return await albums.create(principal.user_id, data)

    @get("/", summary="The caller's albums with item counts and covers, newest first")
    async def list_albums(self, principal: Principal, albums: AlbumsService) -> AlbumList:
        return await albums.list_albums(principal.user_id)

    @get("/{album_id:uuid}", summary="One album")
    async def get_album(
        self, principal: Principal, albums: AlbumsService, album_id: uuid.UUID
    ) -> AlbumOut:
        return await albums.get(principal.user_id, album_id)

    @patch(
        "/{album_id:uuid}",
        summary="Rename an album, change its description or choose its cover",
        opt={"problems": []},
    )
    async def update(
        self, principal: Principal, albums: AlbumsService, album_id: uuid.UUID, data: AlbumChange
    ) -> AlbumOut:
        return await albums.update(principal.user_id, album_id, data)

    @delete(
        "/{album_id:uuid}",
        status_code=204,
        summary="Delete an album (its items stay in the library)",
        opt={"problems": []},
    )
    async def delete_album(
        self, principal: Principal, albums: AlbumsService, album_id: uuid.UUID
    ) -> None:
        await albums.delete(principal.user_id, album_id)

    @post(
        "/{album_id:uuid}/items",
        status_code=200,
        summary="Add items to an album (idempotent; an outcome per id)",
        opt={"problems": []},
    )
    async def add_items(
        self, principal: Principal, albums: AlbumsService, album_id: uuid.UUID, data: ItemIdList
    ) -> BatchResult:
        return await albums.add_items(principal.user_id, album_id, data.item_ids)

    @delete(
        "/{album_id:uuid}/items",
        status_code=200,
        summary="Remove items from an album (idempotent; an outcome per id; items stay)",
        opt={"problems": []},
    )
    async def remove_items(
        self, principal: Principal, albums: AlbumsService, album_id: uuid.UUID, data: ItemIdList
    ) -> BatchResult:
        return await albums.remove_items(principal.user_id, album_id, data.item_ids)

    @post(
        "/{album_id:uuid}/share",
        status_code=201,
        summary="Make a read-only link to the album (replaces an earlier one)",
        description="Anyone with the link sees thumbnails and previews of the album's current "
        "items until it expires or is revoked; never originals, EXIF or locations, and "
        "summaries and tags only with `include_analysis`.",
        opt={"problems": []},
    )
    async def share(
        self,
        request: Request[Any, Any, State],
        principal: Principal,
        albums: AlbumsService,
        album_id: uuid.UUID,
        data: ShareRequest,
    ) -> ShareOut:
        return await albums.share(principal.user_id, album_id, data, base_url=_public_base(request))

    @delete(
        "/{album_id:uuid}/share",
        status_code=204,
        summary="Revoke the album's link at once",
        opt={"problems": []},
    )
    async def unshare(
        self, principal: Principal, albums: AlbumsService, album_id: uuid.UUID
    ) -> None:
        await albums.unshare(principal.user_id, album_id)
