"""Listing by date taken or uploaded, date ranges, stable cursors, the timeline, favourites."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from collections_devtools.testing.api import ApiUser as User
from collections_devtools.testing.client import TestClient
from collections_devtools.testing.library import Library


def _when(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


async def _ids(client: TestClient, user: User, query: str) -> list[str]:
    response = await client.get(f"/items?{query}", headers=user.headers)
    assert 200 == response.status_code, response.text
    return [item["id"] for item in response.json()["items"]]


async def _all_pages(client: TestClient, user: User, query: str) -> list[str]:
    seen: list[str] = []
    cursor = ""
    while True:
        page = (await client.get(f"/items?{query}{cursor}", headers=user.headers)).json()
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            return seen
        cursor = f"&cursor={page['next_cursor']}"


async def test_sort_by_taken_uses_the_exif_date_else_the_upload_time(
    client: TestClient, alice: User, library: Library
) -> None:
    """A photo taken in 2019 sorts before one of 2021; one without a date sorts by its upload."""
    old = await library.upload(alice, taken_at=_when(2019, 5))
    undated = await library.upload(alice)
    newer = await library.upload(alice, taken_at=_when(2021, 3))
    assert [undated, newer, old] == await _ids(client, alice, "sort=taken")
    assert [old, newer, undated] == await _ids(client, alice, "sort=taken&order=asc")
    assert [newer, undated, old] == await _ids(client, alice, "sort=uploaded")
    summary = (await client.get("/items?sort=taken&order=asc", headers=alice.headers)).json()
    assert "2019-05-01T12:00:00Z" == summary["items"][0]["taken_at"]


async def test_from_and_to_bound_the_sort_date(
    client: TestClient, alice: User, library: Library
) -> None:
    """``from`` is inclusive, ``to`` exclusive, and naive date-times are UTC."""
    march = await library.upload(alice, taken_at=_when(2022, 3, 1))
    april = await library.upload(alice, taken_at=_when(2022, 4, 10))
    await library.upload(alice, taken_at=_when(2022, 5, 1))
    query = "sort=taken&from=2022-03-01T12:00:00Z&to=2022-05-01T12:00:00Z"
    assert [april, march] == await _ids(client, alice, query)
    assert [april] == await _ids(
        client, alice, "sort=taken&from=2022-04-01T00:00:00&to=2022-05-01T00:00:00"
    )
    reversed_range = await client.get(
        "/items?from=2022-05-01T00:00:00Z&to=2022-03-01T00:00:00Z", headers=alice.headers
    )
    assert ("bad_date_range", 422) == (reversed_range.json()["code"], reversed_range.status_code)


async def test_pages_are_stable_while_items_arrive(
    client: TestClient, alice: User, library: Library
) -> None:
    """Items uploaded between pages never repeat or shift a row; every earlier item is seen."""
    before = [await library.upload(alice, taken_at=_when(2020, 1, day)) for day in range(1, 6)]
    first = (await client.get("/items?sort=taken&limit=2", headers=alice.headers)).json()
    await library.upload(alice, taken_at=_when(2020, 1, 4))  # lands among the pages
    await library.upload(alice)  # lands before the first page
    rest = await _all_pages(client, alice, f"sort=taken&limit=2&cursor={first['next_cursor']}")
    seen = [item["id"] for item in first["items"]] + rest
    assert len(seen) == len(set(seen))
    assert list(reversed(before)) == [item_id for item_id in seen if item_id in before]


async def test_a_cursor_only_works_for_the_order_it_was_made_for(
    client: TestClient, alice: User, library: Library
) -> None:
    """A cursor of sort=taken used with sort=uploaded, or forged, is a 422 naming the cursor."""
    for _ in range(2):
        await library.upload(alice)
    cursor = (await client.get("/items?sort=taken&limit=1", headers=alice.headers)).json()[
        "next_cursor"
    ]
    for query in (
        f"sort=uploaded&cursor={cursor}",
        f"sort=taken&order=asc&cursor={cursor}",
        "cursor=dHh8bm90LWEtZGF0ZXx4",
    ):
        response = await client.get(f"/items?{query}", headers=alice.headers)
        assert ("bad_cursor", 422) == (response.json()["code"], response.status_code), query


async def test_album_pages_follow_the_taken_date_even_when_it_changes(
    client: TestClient, alice: User, library: Library
) -> None:
    """Album members sort by date taken; an EXIF date learned after adding moves the item."""
    album = (await client.post("/albums", json={"name": "Trip"}, headers=alice.headers)).json()
    early = await library.upload(alice, taken_at=_when(2018, 6))
    late = await library.upload(alice, taken_at=_when(2023, 6))
    pending = await library.upload(alice)
    outside = await library.upload(alice, taken_at=_when(2020, 1))
    await client.post(
        f"/albums/{album['id']}/items",
        json={"item_ids": [early, late, pending]},
        headers=alice.headers,
    )
    assert [pending, late, early] == await _ids(client, alice, f"album_id={album['id']}&sort=taken")
    await library.sql(
        "UPDATE items SET taken_at = $2 WHERE id = $1::uuid", pending, _when(2015, 1)
    )  # what ingest does once it has read the EXIF
    query = f"album_id={album['id']}&sort=taken"
    assert [late, early, pending] == await _ids(client, alice, query)
    assert [early] == await _ids(
        client, alice, f"{query}&from=2018-01-01T00:00:00Z&to=2019-01-01T00:00:00Z"
    )
    assert outside not in await _all_pages(client, alice, f"{query}&limit=1")


async def test_favourites_are_starred_idempotently_and_filter_lists(
    client: TestClient, alice: User, bob: User, library: Library
) -> None:
    """PUT twice stars once, DELETE unstars; favorite=true/false filter; Bob gets 404."""
    starred, plain = await library.upload(alice), await library.upload(alice)
    for _ in range(2):
        put = await client.put(f"/items/{starred}/favorite", headers=alice.headers)
        assert 204 == put.status_code, put.text
    assert [starred] == await _ids(client, alice, "favorite=true")
    assert [plain] == await _ids(client, alice, "favorite=false")
    assert [starred] == await _ids(client, alice, "favorite=true&sort=taken")
    detail = (await client.get(f"/items/{starred}", headers=alice.headers)).json()
    assert True is detail["favorite"]
    for method in ("PUT", "DELETE"):
        response = await client.request(method, f"/items/{starred}/favorite", headers=bob.headers)
        assert 404 == response.status_code
    assert (
        404
        == (await client.put(f"/items/{uuid.uuid4()}/favorite", headers=alice.headers)).status_code
    )
    for _ in range(2):
        assert (
            204
            == (
                await client.delete(f"/items/{starred}/favorite", headers=alice.headers)
            ).status_code
        )
    assert [] == await _ids(client, alice, "favorite=true")


async def test_the_timeline_counts_items_per_month(
    client: TestClient, alice: User, bob: User, library: Library
) -> None:
    """Months with items, newest first, in UTC; filters apply; another user's items never count."""
    for moment in (_when(2021, 1, 3), _when(2021, 1, 30), _when(2020, 12, 31), _when(2019, 7)):
        await library.upload(alice, taken_at=moment)
    await library.upload(bob, taken_at=_when(2021, 1, 5))
    response = await client.get("/items/timeline", headers=alice.headers)
    assert 200 == response.status_code, response.text
    timeline: dict[str, Any] = response.json()
    assert [("2021-01", 2), ("2020-12", 1), ("2019-07", 1)] == [
        (month["month"], month["count"]) for month in timeline["months"]
    ]
    assert 4 == timeline["total"]
    assert "2021-01-01T00:00:00Z" == timeline["months"][0]["starts"]
    assert (
        []
        == (await client.get("/items/timeline?favorite=true", headers=alice.headers)).json()[
            "months"
        ]
    )
    uploaded = (await client.get("/items/timeline?sort=uploaded", headers=alice.headers)).json()
    assert [4] == [month["count"] for month in uploaded["months"]]
