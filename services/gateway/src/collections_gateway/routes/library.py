"""Curating the library: favourites, the timeline's months, bulk actions (thin handlers)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.params import Parameter

from collections_gateway.bulk import BulkService
from collections_gateway.curation_schemas import BulkRequest, BulkResult, Timeline
from collections_gateway.items import ItemsService
from collections_gateway.limits import Limiter
from collections_gateway.listing import ListQuery, Sort
from collections_gateway.schemas import Status
from collections_shared.auth import Principal

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


class LibraryController(Controller):
    path = "/items"
    tags = ["items"]
    security = BEARER

    @put(
        "/{item_id:uuid}/favorite",
        status_code=204,
        summary="Star an item (idempotent)",
        opt={"problems": []},
    )
    async def favorite(self, principal: Principal, items: ItemsService, item_id: uuid.UUID) -> None:
        await items.set_favorite(principal.user_id, item_id, favorite=True)

    @delete(
        "/{item_id:uuid}/favorite",
        status_code=204,
        summary="Unstar an item (idempotent)",
        opt={"problems": []},
    )
    async def unfavorite(
        self, principal: Principal, items: ItemsService, item_id: uuid.UUID
    ) -> None:
        await items.set_favorite(principal.user_id, item_id, favorite=False)

    @get(
        "/timeline",
        summary="Items per month (UTC) for a date scrubber, newest first",
        description="`sort=taken` (default) counts by the EXIF date, else the upload time.",
        opt={"problems": [404]},  # album_id names no album of the caller's
    )
    async def timeline(
        self,
        principal: Principal,
        items: ItemsService,
        sort: Sort = "taken",
        album_id: uuid.UUID | None = None,
        favorite: bool | None = None,
        status: Status | None = None,
        category: Annotated[str | None, Parameter(max_length=48)] = None,
    ) -> Timeline:
        query = ListQuery(
            sort=sort, album_id=album_id, favorite=favorite, status=status, category=category
        )
        return await items.timeline(principal.user_id, query)

    @post(
        "/bulk",
        status_code=200,
        summary="One action on up to 500 items, with an outcome per id",
        description="Each id is done on its own: one that fails does not undo the others. "
        "`album_id` is required by `add_to_album` and `remove_from_album`.",
        opt={"problems": [404]},  # album_id names no album of the caller's
    )
    async def bulk(
        self, principal: Principal, bulk: BulkService, limiter: Limiter, data: BulkRequest
    ) -> BulkResult:
        return await bulk.run(principal.user_id, data, limiter)
