"""``POST /items/bulk``: one action on up to 500 items, each id on its own.

Every id runs through the same service call as its single-item route, in a transaction of its
own, so one id that fails (not found, not processed yet, over the LLM quota) leaves the others
done and is reported with its reason. Ids are handled in the order sent where order can matter:
``analyze`` spends the LLM quota id by id in that order before any work runs concurrently, so
which ids fall past the quota is the tail of the list, never whichever task ran first.
A dependency outage half way answers 503: what was done stays done, and sending the request
again is safe (each action is idempotent).
"""

from __future__ import annotations

import asyncio
import uuid

from collections_gateway.albums import AlbumsService
from collections_gateway.curation_schemas import BulkRequest, BulkResult, Outcome, tally
from collections_gateway.items import ItemsService
from collections_gateway.limits import Limiter
from collections_shared.errors import RequestError, TooManyRequestsError, ValidationFailedError

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
        refused = await self._spend_in_order(user_id, request, limiter, wanted)
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(item_id: uuid.UUID) -> Outcome:
            if item_id in refused:
                return refused[item_id]
            async with gate:
                try:
                    return await self._apply(user_id, request, item_id)
                except RequestError as error:
                    return Outcome(
                        item_id=item_id, status="failed", code=error.code, detail=error.detail
                    )

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(item_id)) for item_id in wanted]
        outcomes = [task.result() for task in tasks]
        return BulkResult(action=request.action, results=outcomes, **tally(outcomes))

    @staticmethod
    async def _spend_in_order(
        user_id: str, request: BulkRequest, limiter: Limiter, wanted: list[uuid.UUID]
    ) -> dict[uuid.UUID, Outcome]:
        """Spend one LLM call per id of an ``analyze``, in the order sent; the refused ids.

        The single-item route spends before it looks at the item, and so does each id here
        (an unprocessed id costs its unit too). Once the quota refuses, every later id is
        refused with the same reason: the quota only grows back the next UTC day.
        """
        refused: dict[uuid.UUID, Outcome] = {}
        if request.action != "analyze":
            return refused
        error: TooManyRequestsError | None = None
        for item_id in wanted:
            if error is None:
                try:
                    await limiter.spend(user_id, "llm_calls")
                    continue
                except TooManyRequestsError as exceeded:
                    error = exceeded
            refused[item_id] = Outcome(
                item_id=item_id, status="failed", code=error.code, detail=error.detail
            )
        return refused

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

    async def _apply(self, user_id: str, request: BulkRequest, item_id: uuid.UUID) -> Outcome:
        """One id through the same service call as its single-item route (quota already spent)."""
        changed = True
        match request.action:
            case "delete":
                await self.items.delete(user_id, item_id)
            case "favorite" | "unfavorite":
                starred = request.action == "favorite"
                changed = await self.items.set_favorite(user_id, item_id, favorite=starred)
            case "analyze":
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
