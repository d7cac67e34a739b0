"""``POST /items/bulk``: one action on up to 500 items, each id on its own.

Every id runs through the same service call as its single-item route, in a transaction of its
own, so one id that fails (not found, not processed yet, over the LLM quota) leaves the others
done and is reported with its reason. A dependency outage half way answers 503: what was done
stays done, and sending the request again is safe (each action is idempotent).
"""

from __future__ import annotations

import asyncio
import uuid

from collections_gateway.albums import AlbumsService
from collections_gateway.curation_schemas import BulkRequest, BulkResult, Outcome, tally
from collections_gateway.items import ItemsService
from collections_gateway.limits import Limiter
from collections_shared.errors import RequestError, ValidationFailedError

CONCURRENCY = 4
"""Ids in flight at once: each holds a database connection while it runs."""


class BulkService:
    def __init__(self, items: ItemsService, albums: AlbumsService) -> None:
        self.items = items
        self.albums = albums

    async def run(self, user_id: str, request: BulkRequest, limiter: Limiter) -> BulkResult:
        """Apply ``request.action`` to each distinct id; the outcomes in the order sent.

        ``analyze`` spends the caller's LLM quota per id, as the single-item route does.
        """
        await self._check(user_id, request)
        wanted = list(dict.fromkeys(request.item_ids))
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(item_id: uuid.UUID) -> Outcome:
            async with gate:
                try:
                    return await self._apply(user_id, request, limiter, item_id)
                except RequestError as error:
                    return Outcome(
                        item_id=item_id, status="failed", code=error.code, detail=error.detail
                    )

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(item_id)) for item_id in wanted]
        outcomes = [task.result() for task in tasks]
        return BulkResult(action=request.action, results=outcomes, **tally(outcomes))

    async def _check(self, user_id: str, request: BulkRequest) -> None:
        """An album action needs one of the caller's albums; the others take none."""
        needs_album = request.action in ("add_to_album", "remove_from_album")
        if needs_album and request.album_id is None:
            raise ValidationFailedError(
                f"{request.action} needs an album_id", code="album_required"
            )
        if not needs_album and request.album_id is not None:
            raise ValidationFailedError(
                "album_id is only for add_to_album and remove_from_album", code="album_unexpected"
            )
        if request.album_id is not None:
            await self.albums.require(user_id, request.album_id)

    async def _apply(
        self, user_id: str, request: BulkRequest, limiter: Limiter, item_id: uuid.UUID
    ) -> Outcome:
        """One id through the same service call as its single-item route."""
        changed = True
        match request.action:
            case "delete":
                await self.items.delete(user_id, item_id)
            case "favorite" | "unfavorite":
                starred = request.action == "favorite"
                changed = await self.items.set_favorite(user_id, item_id, favorite=starred)
            case "analyze":
                await limiter.spend(user_id, "llm_calls")
                await self.items.analyze(user_id, item_id)
            case "add_to_album" | "remove_from_album":
                assert request.album_id is not None
                change = (
                    self.albums.add_items
                    if request.action == "add_to_album"
                    else self.albums.remove_items
                )
                return (await change(user_id, request.album_id, [item_id])).results[0]
        return Outcome(item_id=item_id, status="done" if changed else "unchanged")
