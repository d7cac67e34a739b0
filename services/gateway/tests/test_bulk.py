"""``POST /items/bulk``: an outcome per id, one id failing leaves the rest done, tenancy."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from litestar.testing import AsyncTestClient

from collections_devtools.testing.api import ApiUser as User
from collections_devtools.testing.api import sign_up
from collections_devtools.testing.library import Library

Client = AsyncTestClient  # type: ignore[type-arg]


async def _bulk(client: Client, user: User, **body: Any) -> dict[str, Any]:
    response = await client.post("/items/bulk", json=body, headers=user.headers)
    assert 200 == response.status_code, response.text
    result: dict[str, Any] = response.json()
    return result


def _outcomes(result: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(r["item_id"], r["status"], r.get("code")) for r in result["results"]]


async def test_favourite_in_bulk_reports_each_id_and_touches_only_the_callers_items(
    client: Client, alice: User, bob: User, library: Library
) -> None:
    """Alice's items are done (then unchanged), Bob's and unknown ids fail; Bob's stay unstarred."""
    mine = [await library.upload(alice) for _ in range(2)]
    theirs = await library.upload(bob)
    unknown = str(uuid.uuid4())
    ids = [*mine, theirs, unknown, mine[0]]  # a repeated id counts once
    first = await _bulk(client, alice, action="favorite", item_ids=ids)
    assert [
        (mine[0], "done", None),
        (mine[1], "done", None),
        (theirs, "failed", "not_found"),
        (unknown, "failed", "not_found"),
    ] == _outcomes(first)
    assert ("favorite", 2, 0, 2) == (
        first["action"],
        first["done"],
        first["unchanged"],
        first["failed"],
    )
    again = await _bulk(client, alice, action="favorite", item_ids=mine)
    assert ["unchanged", "unchanged"] == [r["status"] for r in again["results"]]
    assert False is (await client.get(f"/items/{theirs}", headers=bob.headers)).json()["favorite"]
    await _bulk(client, alice, action="unfavorite", item_ids=[mine[0]])
    starred = (await client.get("/items?favorite=true", headers=alice.headers)).json()["items"]
    assert [mine[1]] == [item["id"] for item in starred]


async def test_bulk_album_actions_need_an_album_of_the_caller(
    client: Client, alice: User, bob: User, library: Library
) -> None:
    """add_to_album fills the album per id; a missing album_id is 422, Bob's album 404."""
    album = (await client.post("/albums", json={"name": "Picks"}, headers=alice.headers)).json()
    mine = [await library.upload(alice) for _ in range(3)]
    added = await _bulk(
        client, alice, action="add_to_album", album_id=album["id"], item_ids=[*mine, mine[0]]
    )
    assert ["done"] * 3 == [r["status"] for r in added["results"]]
    removed = await _bulk(
        client, alice, action="remove_from_album", album_id=album["id"], item_ids=mine[:1]
    )
    assert ["done"] == [r["status"] for r in removed["results"]]
    listed = (await client.get(f"/items?album_id={album['id']}", headers=alice.headers)).json()
    assert sorted(mine[1:]) == sorted(item["id"] for item in listed["items"])
    missing = await client.post(
        "/items/bulk", json={"action": "add_to_album", "item_ids": mine}, headers=alice.headers
    )
    assert ("album_required", 422) == (missing.json()["code"], missing.status_code)
    unexpected = await client.post(
        "/items/bulk",
        json={"action": "favorite", "item_ids": mine, "album_id": album["id"]},
        headers=alice.headers,
    )
    assert 422 == unexpected.status_code
    bobs_album = (await client.post("/albums", json={"name": "B"}, headers=bob.headers)).json()
    foreign = await client.post(
        "/items/bulk",
        json={"action": "add_to_album", "album_id": bobs_album["id"], "item_ids": mine},
        headers=alice.headers,
    )
    assert 404 == foreign.status_code


async def test_bulk_delete_removes_each_item_and_skips_what_is_not_the_callers(
    client: Client, alice: User, bob: User, library: Library
) -> None:
    """Deleted items are gone from lists and albums; Bob's item is untouched."""
    album = (await client.post("/albums", json={"name": "Doomed"}, headers=alice.headers)).json()
    mine = [await library.upload(alice) for _ in range(2)]
    theirs = await library.upload(bob)
    await client.post(
        f"/albums/{album['id']}/items", json={"item_ids": mine}, headers=alice.headers
    )
    result = await _bulk(client, alice, action="delete", item_ids=[*mine, theirs])
    assert ["done", "done", "failed"] == [r["status"] for r in result["results"]]
    assert [] == (await client.get("/items", headers=alice.headers)).json()["items"]
    assert (
        0
        == (await client.get(f"/albums/{album['id']}", headers=alice.headers)).json()["item_count"]
    )
    assert 200 == (await client.get(f"/items/{theirs}", headers=bob.headers)).status_code


async def test_bulk_analyze_fails_alone_for_unprocessed_items_and_past_the_quota(
    gateway: Callable[..., Any], library: Library
) -> None:
    """Ids spend the LLM quota in the order sent: the ones past it are the list's tail."""
    async with gateway(daily_llm_quota=2) as client:
        library.client = client
        alice = await sign_up(client, f"bulk-{uuid.uuid4().hex[:8]}@example.com")
        processed = [await library.upload(alice) for _ in range(3)]
        for item_id in processed:
            await library.process(alice, item_id)
        unprocessed = await library.upload(alice)
        result = await _bulk(client, alice, action="analyze", item_ids=[unprocessed, *processed])
    assert [
        (unprocessed, "failed", "not_processed"),
        (processed[0], "done", None),
        (processed[1], "failed", "llm_calls_quota_exceeded"),
        (processed[2], "failed", "llm_calls_quota_exceeded"),
    ] == _outcomes(result)


async def test_bulk_input_is_validated(client: Client, alice: User) -> None:
    """Unknown actions, more than 500 ids, no ids or unknown fields are 422s."""
    one = [str(uuid.uuid4())]
    for body in (
        {"action": "explode", "item_ids": one},
        {"action": "delete", "item_ids": [str(uuid.uuid4()) for _ in range(501)]},
        {"action": "delete", "item_ids": []},
        {"action": "delete", "item_ids": one, "user_id": "someone-else"},
    ):
        response = await client.post("/items/bulk", json=body, headers=alice.headers)
        assert 422 == response.status_code, (body, response.text)
    full = await client.post(
        "/items/bulk",
        json={"action": "favorite", "item_ids": [str(uuid.uuid4()) for _ in range(500)]},
        headers=alice.headers,
    )
    assert (200, 500) == (full.status_code, full.json()["failed"])
