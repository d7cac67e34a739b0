"""A chat turn scoped to an album (``filters``): every search of the turn keeps to it."""

from __future__ import annotations

import uuid
from typing import Any


async def test_every_search_of_a_scoped_turn_carries_the_scope(
    client: Any, alice: Any, search: Any, collection: Any
) -> None:
    """The request's filters reach the search service with each of the agent's searches."""
    await collection.add(alice, "A bicycle against a wall.", tags=("bicycle",))
    album_id = str(uuid.uuid4())

    response = await client.post(
        "/chat",
        json={"message": "bicycle", "filters": {"album_id": album_id, "favorite": True}},
        headers=alice.headers,
    )

    assert 200 == response.status_code, response.text
    assert search.requests
    for request in search.requests:
        assert {"album_id": album_id, "favorite": True} == request["body"]["filters"]


async def test_an_unscoped_turn_sends_no_filters(
    client: Any, alice: Any, search: Any, collection: Any
) -> None:
    """Without filters in the request, the search body has none either."""
    await collection.add(alice, "A bicycle against a wall.", tags=("bicycle",))
    await client.post("/chat", json={"message": "bicycle"}, headers=alice.headers)
    assert "filters" not in search.requests[0]["body"]


async def test_scope_filters_are_validated(client: Any, alice: Any) -> None:
    """An unknown filter or a malformed album id is a 4xx before any search runs."""
    for filters in ({"album_id": "not-a-uuid"}, {"owner": "someone"}):
        response = await client.post(
            "/chat", json={"message": "hi", "filters": filters}, headers=alice.headers
        )
        assert response.status_code in (400, 422), response.text
