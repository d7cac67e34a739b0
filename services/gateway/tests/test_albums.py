"""Albums in-process: create, list with counts and covers, rename, members, delete, tenancy."""

from __future__ import annotations

import uuid
from typing import Any

from collections_devtools.testing.api import ApiUser as User
from collections_devtools.testing.client import TestClient
from collections_devtools.testing.library import Library


async def _album(client: TestClient, user: User, name: str = "Holidays") -> dict[str, Any]:
    response = await client.post("/albums", json={"name": name}, headers=user.headers)
    assert 201 == response.status_code, response.text
    album: dict[str, Any] = response.json()
    return album


async def _members(client: TestClient, user: User, album_id: str) -> list[str]:
    page = await client.get(f"/items?album_id={album_id}", headers=user.headers)
    assert 200 == page.status_code, page.text
    return [item["id"] for item in page.json()["items"]]


async def test_an_album_is_created_listed_renamed_and_deleted(
    client: TestClient, alice: User
) -> None:
    """A new album is empty and listed; PATCH renames it; DELETE removes it from the list."""
    album = await _album(client, alice, "  Holidays  ")
    assert ("Holidays", "", 0, None, None) == (
        album["name"],
        album["description"],
        album["item_count"],
        album["cover"],
        album["share"],
    )
    renamed = await client.patch(
        f"/albums/{album['id']}",
        json={"name": "Summer 2024", "description": "Beaches"},
        headers=alice.headers,
    )
    assert ("Summer 2024", "Beaches") == (renamed.json()["name"], renamed.json()["description"])
    listed = (await client.get("/albums", headers=alice.headers)).json()["albums"]
    assert [("Summer 2024", 0)] == [(entry["name"], entry["item_count"]) for entry in listed]
    assert 204 == (await client.delete(f"/albums/{album['id']}", headers=alice.headers)).status_code
    assert [] == (await client.get("/albums", headers=alice.headers)).json()["albums"]
    assert 404 == (await client.get(f"/albums/{album['id']}", headers=alice.headers)).status_code


async def test_bad_album_input_is_a_clear_4xx(client: TestClient, alice: User) -> None:
    """A blank or over-long name, an unknown field or a NUL character is a 422, never a 500."""
    album = await _album(client, alice)
    cases = [
        ("POST", "/albums", {"name": "   "}),
        ("POST", "/albums", {"name": "x" * 201}),
        ("POST", "/albums", {"name": "ok", "owner": "someone"}),
        ("POST", "/albums", {"name": "nul\x00byte"}),
        ("PATCH", f"/albums/{album['id']}", {"name": ""}),
        ("PATCH", f"/albums/{album['id']}", {"cover_item_id": str(uuid.uuid4())}),
        ("POST", f"/albums/{album['id']}/items", {"item_ids": []}),
        ("POST", f"/albums/{album['id']}/items", {"item_ids": ["not-a-uuid"]}),
        ("POST", f"/albums/{album['id']}/items", {"item_ids": [str(uuid.uuid4())] * 501}),
    ]
    for method, path, body in cases:
        response = await client.request(method, path, json=body, headers=alice.headers)
        assert 422 == response.status_code, (method, path, response.status_code, response.text)
        assert "application/problem+json" == response.headers["content-type"]


async def test_adding_and_removing_members_is_idempotent_with_an_outcome_per_id(
    client: TestClient, alice: User, bob: User, library: Library
) -> None:
    """Adding twice is done then unchanged; Bob's and unknown ids fail as not_found, alone."""
    album = await _album(client, alice)
    mine = [await library.upload(alice) for _ in range(2)]
    theirs = await library.upload(bob)
    unknown = str(uuid.uuid4())
    path = f"/albums/{album['id']}/items"
    first = await client.post(
        path, json={"item_ids": [*mine, theirs, unknown]}, headers=alice.headers
    )
    assert 200 == first.status_code, first.text
    assert [
        (mine[0], "done", None),
        (mine[1], "done", None),
        (theirs, "failed", "not_found"),
        (unknown, "failed", "not_found"),
    ] == [(r["item_id"], r["status"], r.get("code")) for r in first.json()["results"]]
    assert (2, 0, 2) == (first.json()["done"], first.json()["unchanged"], first.json()["failed"])
    again = await client.post(path, json={"item_ids": [mine[0], mine[0]]}, headers=alice.headers)
    assert [(mine[0], "unchanged")] == [
        (r["item_id"], r["status"]) for r in again.json()["results"]
    ]
    assert sorted(mine) == sorted(await _members(client, alice, album["id"]))
    assert (
        2
        == (await client.get(f"/albums/{album['id']}", headers=alice.headers)).json()["item_count"]
    )
    removed = await client.request(
        "DELETE", path, json={"item_ids": [mine[0], theirs]}, headers=alice.headers
    )
    assert [("done", None), ("failed", "not_found")] == [
        (r["status"], r.get("code")) for r in removed.json()["results"]
    ]
    twice = await client.request(
        "DELETE", path, json={"item_ids": [mine[0]]}, headers=alice.headers
    )
    assert "unchanged" == twice.json()["results"][0]["status"]
    assert [mine[1]] == await _members(client, alice, album["id"])
    assert 200 == (await client.get(f"/items/{theirs}", headers=bob.headers)).status_code


async def test_deleting_an_album_keeps_its_items_and_deleting_an_item_leaves_its_albums(
    client: TestClient, alice: User, library: Library
) -> None:
    """Albums hold references: the album goes, the item stays; the item goes, the album stays."""
    first, second = await _album(client, alice, "One"), await _album(client, alice, "Two")
    item_id = await library.upload(alice)
    for album in (first, second):
        await client.post(
            f"/albums/{album['id']}/items", json={"item_ids": [item_id]}, headers=alice.headers
        )
    detail = (await client.get(f"/items/{item_id}", headers=alice.headers)).json()
    assert {first["id"], second["id"]} == set(detail["album_ids"])
    await client.delete(f"/albums/{first['id']}", headers=alice.headers)
    assert [second["id"]] == (await client.get(f"/items/{item_id}", headers=alice.headers)).json()[
        "album_ids"
    ]
    await client.delete(f"/items/{item_id}", headers=alice.headers)
    left = (await client.get(f"/albums/{second['id']}", headers=alice.headers)).json()
    assert (0, None) == (left["item_count"], left["cover"])


async def test_the_cover_is_the_chosen_member_else_the_latest_with_a_thumbnail(
    client: TestClient, alice: User, library: Library
) -> None:
    """No thumbnail, no cover; then the newest processed member; a chosen cover wins."""
    album = await _album(client, alice)
    older, newer, bare = [await library.upload(alice) for _ in range(3)]
    for item_id in (older, newer, bare):  # added in this order
        await client.post(
            f"/albums/{album['id']}/items", json={"item_ids": [item_id]}, headers=alice.headers
        )
    assert (
        None is (await client.get(f"/albums/{album['id']}", headers=alice.headers)).json()["cover"]
    )
    for item_id in (older, newer):
        await library.process(alice, item_id)
    automatic = (await client.get(f"/albums/{album['id']}", headers=alice.headers)).json()
    assert newer == automatic["cover"]["item_id"]
    assert automatic["cover"]["thumbnail_url"].startswith("http")
    chosen = await client.patch(
        f"/albums/{album['id']}", json={"cover_item_id": older}, headers=alice.headers
    )
    assert older == chosen.json()["cover"]["item_id"]
    cleared = await client.patch(
        f"/albums/{album['id']}", json={"cover_item_id": None}, headers=alice.headers
    )
    assert newer == cleared.json()["cover"]["item_id"]


async def test_another_users_album_is_404_on_every_route(
    client: TestClient, alice: User, bob: User, library: Library
) -> None:
    """Bob cannot read, change, fill, empty, share, list or search in Alice's album."""
    album = await _album(client, alice)
    item_id = await library.upload(alice)
    bobs_item = await library.upload(bob)
    await client.post(
        f"/albums/{album['id']}/items", json={"item_ids": [item_id]}, headers=alice.headers
    )
    base = f"/albums/{album['id']}"
    attempts = [
        ("GET", base, None),
        ("PATCH", base, {"name": "mine now"}),
        ("DELETE", base, None),
        ("POST", f"{base}/items", {"item_ids": [bobs_item]}),
        ("DELETE", f"{base}/items", {"item_ids": [item_id]}),
        ("POST", f"{base}/share", {"expires_in": 3600}),
        ("DELETE", f"{base}/share", None),
        ("GET", f"/items?album_id={album['id']}", None),
        ("POST", "/search", {"query": "x", "filters": {"album_id": album["id"]}}),
        ("POST", "/chat", {"message": "x", "filters": {"album_id": album["id"]}}),
        ("POST", "/chat/stream", {"message": "x", "filters": {"album_id": album["id"]}}),
        ("GET", f"/items/timeline?album_id={album['id']}", None),
        (
            "POST",
            "/items/bulk",
            {"action": "add_to_album", "album_id": album["id"], "item_ids": [bobs_item]},
        ),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, json=body, headers=bob.headers)
        assert 404 == response.status_code, (method, path, response.status_code, response.text)
        assert "Holidays" not in response.text
    assert [] == (await client.get("/albums", headers=bob.headers)).json()["albums"]
    still = (await client.get(base, headers=alice.headers)).json()
    assert ("Holidays", 1, None) == (still["name"], still["item_count"], still["share"])
