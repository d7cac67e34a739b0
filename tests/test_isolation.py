"""Two users on the running system: B never reaches A's items, analyses, sessions or objects."""

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
        await _searchable_item(api, user, seed)
        await _chat_session(api, user)
    response = await api.delete("/me", headers=alice.headers)
    assert 200 == response.status_code, response.text
    assert (1, 1) == (response.json()["items"], response.json()["chat_sessions"])
    assert {"items": 0, "analyses": 0, "embeddings": 0, "objects": 0} == await _footprint(
        stack, alice
    )
    assert [] == (await api.get("/chat/sessions", headers=alice.headers)).json()["sessions"]
    bob_left = await _footprint(stack, bob)
    assert (1, 1, 1) == (bob_left["items"], bob_left["analyses"], bob_left["embeddings"])
    assert 3 == bob_left["objects"]  # original, thumbnail, preview
    assert 1 == len((await api.get("/chat/sessions", headers=bob.headers)).json()["sessions"])


async def _footprint(stack: LocalStack, user: ApiUser) -> dict[str, int]:
    connection = await asyncpg.connect(stack.owner_database_url())
    try:
        row = await connection.fetchrow(
            """SELECT (SELECT count(*) FROM items WHERE user_id = $1) AS items,
                      (SELECT count(*) FROM analyses WHERE user_id = $1) AS analyses,
                      (SELECT count(*) FROM embeddings WHERE user_id = $1) AS embeddings""",
            user.user_id,
        )
    finally:
        await connection.close()
    aws = AwsClients(region="us-east-1", endpoint_url=stack.config.aws_endpoint)
    async with aws.client("s3") as s3:
        listing = await s3.list_objects_v2(Bucket="collections-images", Prefix=f"{user.user_id}/")
    return {
        **{key: int(value) for key, value in dict(row).items()},
        "objects": listing.get("KeyCount", 0),
    }
