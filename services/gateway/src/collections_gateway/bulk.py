"""``POST /items/bulk``: one action on up to 500 items, each id on its own.

Every id runs through the same service call as its single-item route, in a transaction of its
own, so one id that fails (not found, not processed yet, over the LLM quota) leaves the others
done and is reported with its reason. A dependency outage half way answers 503: what was done
stays done, and sending the request again is safe (each action is idempotent).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

from collections_gateway.albums import AlbumsService
from collections_gateway.curation_schemas import BulkRequest, BulkResult, Outcome, tally
from collections_gateway.items import ItemsService
from collections_gateway.limits import Limiter
from collections_shared.errors import RequestError, ValidationFailedError

Action = Callable[[uuid.UUID], Awaitable[Outcome]]
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
        action = await self._action(user_id, request, limiter)
        wanted = list(dict.fromkeys(request.item_ids))
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(item_id: uuid.UUID) -> Outcome:
            async with gate:
                try:
                    return await action(item_id)
                except RequestError as error:
                    return Outcome(
                        item_id=item_id, status="failed", code=error.code, detail=error.detail
                    )

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(item_id)) for item_id in wanted]
        outcomes = [task.result() for task in tasks]
        return BulkResult(action=request.action, results=outcomes, **tally(outcomes))

    async def _action(self, user_id: str, request: BulkRequest, limiter: Limiter) -> Action:
        album_id = request.album_id
        needs_album = request.action in ("add_to_album", "remove_from_album")
        if needs_album and album_id is None:
            raise ValidationFailedError(
                f"{request.action} needs an album_id", code="album_required"
            )
        if not needs_album and album_id is not None:
            raise ValidationFailedError(
                "album_id is only for add_to_album and remove_from_album", code="album_unexpected"
            )
        if album_id is not None:
            await self.albums.require(user_id, album_id)

        async def delete(item_id: uuid.UUID) -> Outcome:
            await self.items.delete(user_id, item_id)
            return Outcome(item_id=item_id, status="done")

        async def favorite(item_id: uuid.UUID, *, starred: bool) -> Outcome:
            changed = await self.items.set_favorite(user_id, item_id, favorite=starred)
            return Outcome(item_id=item_id, status="done" if changed else "unchanged")

        async def analyze(item_id: uuid.UUID) -> Outcome:
            limiter.spend(user_id, "llm_calls")
            await self.items.analyze(user_id, item_id)
            return Outcome(item_id=item_id, status="done")

        async def membership(item_id: uuid.UUID, *, add: bool) -> Outcome:
            assert album_id is not None
            change = self.albums.add_items if add else self.albums.remove_items
            return (await change(user_id, album_id, [item_id])).results[0]

        actions: dict[str, Action] = {
            "delete": delete,
            "favorite": lambda item_id: favorite(item_id, starred=True),
            "unfavorite": lambda item_id: favorite(item_id, starred=False),
            "analyze": analyze,
            "add_to_album": lambda item_id: membership(item_id, add=True),
            "remove_from_album": lambda item_id: membership(item_id, add=False),
        }
        return actions[request.action]
