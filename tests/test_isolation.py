"""Two users on the running system: B never reaches A's items, analyses, sessions, albums,
stars, links or objects."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import ApiUser, sign_up
from collections_devtools.testing.images import jpeg
from collections_shared.aws import AwsClients

pytestmark = [pytest.mark.slow, pytest.mark.stack]

SECRET = "zanzibar lighthouse"


async def _searchable_item(api: httpx.AsyncClient, user: ApiUser, seed: int) -> dict[str, Any]:
    """An item with an imported analysis naming the secret words, once it is searchable."""
    analysis = {
        "category": "architecture",
        "summary": f"A {SECRET} at dusk.",
        "tags": SECRET.split(),
    }
    response = await api.post(
        "/items",
        files={"file": ("secret.jpg", jpeg(200, 150, seed=seed), "image/jpeg")},
        data={"analysis": json.dumps(analysis)},
        headers=user.headers,
    )
    item_id = response.json()["id"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        item: dict[str, Any] = (await api.get(f"/items/{item_id}", headers=user.headers)).json()
        if item["status"] == "searchable":
            return item
        await asyncio.sleep(0.3)
    raise AssertionError(f"item {item_id} did not become searchable")


async def _chat_session(api: httpx.AsyncClient, user: ApiUser) -> dict[str, Any]:
    response = await api.post(
        "/chat", json={"message": f"show me the {SECRET}"}, headers=user.headers
    )
    assert 200 == response.status_code, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_b_cannot_reach_anything_of_a(stack: LocalStack, api: httpx.AsyncClient) -> None:
    """A's ids are 404 for B on every route, nothing changes, and B's search and chat miss A."""
    alice = await sign_up(api, f"a-{uuid.uuid4().hex[:8]}@example.com")
    bob = await sign_up(api, f"b-{uuid.uuid4().hex[:8]}@example.com")
    item = await _searchable_item(api, alice, seed=1201)
    session = await _chat_session(api, alice)
    item_id, session_id = item["id"], session["session_id"]
    analysis_id = item["analysis"]["id"]
    attempts = [
        ("GET", f"/items/{item_id}", None),
        ("GET", f"/items/{item_id}/analyses", None),
        ("POST", f"/items/{item_id}/analyze", None),
        ("POST", f"/items/{item_id}/reprocess", None),
        ("DELETE", f"/items/{item_id}", None),
        ("GET", f"/items/{analysis_id}", None),
        ("GET", f"/chat/sessions/{session_id}", None),
        ("DELETE", f"/chat/sessions/{session_id}", None),
    ]
    for method, path, body in attempts:
        response = await api.request(method, path, json=body, headers=bob.headers)
        assert 404 == response.status_code, (method, path, response.status_code, response.text)
        assert SECRET not in response.text
    continued = await api.post(
        "/chat",
        json={"message": "and the first one?", "session_id": session_id},
        headers=bob.headers,
    )
    assert 404 == continued.status_code
    for mode in ("keyword", "vector", "hybrid", "agentic"):
        found = (
            await api.post("/search", json={"query": SECRET, "mode": mode}, headers=bob.headers)
        ).json()
        assert [] == [
            result["item_id"] for result in found["results"] if result["item_id"] == item_id
        ], mode
    chat = await _chat_session(api, bob)
    assert item_id not in {citation["item_id"] for citation in chat["citations"]}
    assert SECRET not in chat["reply"].lower() or not chat["citations"]
    assert [] == (await api.get("/items", headers=bob.headers)).json()["items"]
    bob_sessions = (await api.get("/chat/sessions", headers=bob.headers)).json()["sessions"]
    assert [chat["session_id"]] == [entry["session_id"] for entry in bob_sessions]
    still = (await api.get(f"/items/{item_id}", headers=alice.headers)).json()
    assert ("searchable", 1) == (
        still["status"],
        len(
            (await api.get(f"/items/{item_id}/analyses", headers=alice.headers)).json()["analyses"]
        ),
    )
    mine = await api.post(
        "/search", json={"query": SECRET, "mode": "keyword"}, headers=alice.headers
    )
    assert item_id in [result["item_id"] for result in mine.json()["results"]]


async def _curated(api: httpx.AsyncClient, user: ApiUser, item_id: str) -> tuple[str, str]:
    """An album holding the item, the item starred, and a link to the album: (album, token)."""
    album = await api.post("/albums", json={"name": SECRET}, headers=user.headers)
    album_id = album.json()["id"]
    added = await api.post(
        f"/albums/{album_id}/items", json={"item_ids": [item_id]}, headers=user.headers
    )
    assert "done" == added.json()["results"][0]["status"], added.text
    assert 204 == (await api.put(f"/items/{item_id}/favorite", headers=user.headers)).status_code
    share = await api.post(f"/albums/{album_id}/share", json={}, headers=user.headers)
    assert 201 == share.status_code, share.text
    return album_id, share.json()["token"]


def _curation_attempts(item_id: str, album_id: str) -> list[tuple[str, str, Any]]:
    """Every curation route, aimed at A's item or album."""
    album, scope = f"/albums/{album_id}", {"album_id": album_id}
    return [
        ("GET", album, None),
        ("PATCH", album, {"name": "taken over"}),
        ("DELETE", album, None),
        ("POST", f"{album}/items", {"item_ids": [item_id]}),
        ("DELETE", f"{album}/items", {"item_ids": [item_id]}),
        ("POST", f"{album}/share", {"expires_in": 600}),
        ("DELETE", f"{album}/share", None),
        ("GET", f"/items?album_id={album_id}", None),
        ("GET", f"/items/timeline?album_id={album_id}", None),
        ("PUT", f"/items/{item_id}/favorite", None),
        ("DELETE", f"/items/{item_id}/favorite", None),
        ("POST", "/items/bulk", {"action": "remove_from_album", "album_id": album_id,
                                 "item_ids": [item_id]}),
        ("POST", "/search", {"query": SECRET, "filters": scope}),
        ("POST", "/chat", {"message": SECRET, "filters": scope}),
        ("POST", "/chat/stream", {"message": SECRET, "filters": scope}),
    ]  # fmt: skip


async def test_b_cannot_reach_as_albums_favourites_bulk_or_links(
    stack: LocalStack, api: httpx.AsyncClient
) -> None:
    """A's albums, stars and link are 404 for B on every curation route, and stay as they were."""
    alice = await sign_up(api, f"a-{uuid.uuid4().hex[:8]}@example.com")
    bob = await sign_up(api, f"b-{uuid.uuid4().hex[:8]}@example.com")
    item = await _searchable_item(api, alice, seed=1401)
    album_id, token = await _curated(api, alice, item["id"])
    for method, path, body in _curation_attempts(item["id"], album_id):
        response = await api.request(method, path, json=body, headers=bob.headers)
        assert 404 == response.status_code, (method, path, response.status_code, response.text)
        assert SECRET not in response.text
    for action in ("delete", "unfavorite", "analyze", "remove_from_album", "add_to_album"):
        request: dict[str, Any] = {"action": action, "item_ids": [item["id"]]}
        if "album" in action:
            own = await api.post("/albums", json={"name": "b's"}, headers=bob.headers)
            request["album_id"] = own.json()["id"]
        bulk = (await api.post("/items/bulk", json=request, headers=bob.headers)).json()
        assert [("failed", "not_found")] == [(r["status"], r["code"]) for r in bulk["results"]]
    assert {"b's"} == {
        a["name"] for a in (await api.get("/albums", headers=bob.headers)).json()["albums"]
    }
    assert 0 == (await api.get("/items/timeline", headers=bob.headers)).json()["total"]
    still = (await api.get(f"/items/{item['id']}", headers=alice.headers)).json()
    assert (True, [album_id]) == (still["favorite"], still["album_ids"])
    shared = (await api.get(f"/shared/{token}")).json()
    assert [item["id"]] == [entry["id"] for entry in shared["items"]]
    scoped = await api.post(
        "/search",
        json={"query": SECRET, "mode": "keyword", "filters": {"album_id": album_id}},
        headers=alice.headers,
    )
    assert [item["id"]] == [result["item_id"] for result in scoped.json()["results"]]


async def test_presigned_upload_cannot_target_another_prefix(
    stack: LocalStack, api: httpx.AsyncClient
) -> None:
    """B's presigned POST is pinned to B's own prefix, whatever filename B declares."""
    bob = await sign_up(api, f"b-{uuid.uuid4().hex[:8]}@example.com")
    presign = await api.post(
        "/items/uploads",
        json={"filename": "../../alice/images/x.jpg", "content_type": "image/jpeg", "size": 100},
        headers=bob.headers,
    )
    fields = presign.json()["fields"]
    assert fields["key"].startswith(f"{bob.user_id}/images/")
    assert ".." not in fields["key"]


async def test_delete_me_removes_everything_of_the_caller_only(
    stack: LocalStack, api: httpx.AsyncClient
) -> None:
    """DELETE /me removes A's rows, objects and chat sessions, and leaves B's untouched."""
    alice = await sign_up(api, f"a-{uuid.uuid4().hex[:8]}@example.com")
    bob = await sign_up(api, f"b-{uuid.uuid4().hex[:8]}@example.com")
    for user, seed in ((alice, 1301), (bob, 1302)):
        item = await _searchable_item(api, user, seed)
        await _chat_session(api, user)
        await _curated(api, user, item["id"])
    response = await api.delete("/me", headers=alice.headers)
    assert 200 == response.status_code, response.text
    deleted = response.json()
    assert (1, 1, 1) == (deleted["items"], deleted["chat_sessions"], deleted["albums"])
    assert {"items": 0, "analyses": 0, "embeddings": 0, "albums": 0, "objects": 0} == (
        await _footprint(stack, alice)
    )
    assert [] == (await api.get("/chat/sessions", headers=alice.headers)).json()["sessions"]
    bob_left = await _footprint(stack, bob)
    assert (1, 1, 1, 1) == (
        bob_left["items"],
        bob_left["analyses"],
        bob_left["embeddings"],
        bob_left["albums"],
    )
    assert 3 == bob_left["objects"]  # original, thumbnail, preview
    assert 1 == len((await api.get("/chat/sessions", headers=bob.headers)).json()["sessions"])


async def _footprint(stack: LocalStack, user: ApiUser) -> dict[str, int]:
    connection = await asyncpg.connect(stack.owner_database_url())
    try:
        row = await connection.fetchrow(
            """SELECT (SELECT count(*) FROM items WHERE user_id = $1) AS items,
                      (SELECT count(*) FROM analyses WHERE user_id = $1) AS analyses,
                      (SELECT count(*) FROM embeddings WHERE user_id = $1) AS embeddings,
                      (SELECT count(*) FROM albums WHERE user_id = $1) AS albums""",
            user.user_id,
        )
    finally:
        await connection.close()
    assert row is not None
    aws = AwsClients(region="us-east-1", endpoint_url=stack.config.aws_endpoint)
    async with aws.client("s3") as s3:
        listing = await s3.list_objects_v2(Bucket="collections-images", Prefix=f"{user.user_id}/")
    return {
        **{key: int(value) for key, value in dict(row).items()},
        "objects": listing.get("KeyCount", 0),
    }
