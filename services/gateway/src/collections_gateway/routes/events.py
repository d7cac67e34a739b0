"""``GET /events``: the caller's item status changes as server-sent events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
from litestar import get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from collections_gateway.status_feed import StatusFeed
from collections_shared.auth import Principal


@get("/events", tags=["items"], security=[{"BearerToken": []}], summary="Status changes (SSE)")
async def status_events(principal: Principal, feed: StatusFeed) -> ServerSentEvent:
    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        # data=None: a comment alone, not an event with empty data that clients would dispatch.
        # "connected" is sent once subscribed, so a client that waits for it misses nothing.
        comment = ServerSentEventMessage(comment="connected", retry=3000, data=None)
        async for change in feed.subscribe(principal.user_id):
            if change is None:
                yield comment
                comment = ServerSentEventMessage(comment="keep-alive", data=None)
                continue
            payload = {
                "item_id": change.item_id,
                "status": change.status,
                "failure_code": change.failure_code,
            }
            yield ServerSentEventMessage(event="status", data=msgspec.json.encode(payload).decode())

    return ServerSentEvent(
        stream(), headers={"cache-control": "no-store", "x-accel-buffering": "no"}
    )
