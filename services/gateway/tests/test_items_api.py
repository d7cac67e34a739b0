"""The items API in-process: uploads, idempotency, listing, details, deletion, tenancy."""

from __future__ import annotations

import hashlib
import uuid

from litestar.testing import AsyncTestClient

from collections_devtools.testing.api import ApiUser as User
from collections_devtools.testing.api import upload
from collections_devtools.testing.client import TestClient
from collections_devtools.testing.fixtures import AwsStack
from collections_devtools.testing.images import jpeg


async def test_upload_registers_the_item_and_stores_the_original(
    client: AsyncTestClient,
    alice: User,
    aws: AwsStack,  # type: ignore[type-arg]
) -> None:
    """A JPEG upload answers 202 with an ``uploaded`` item; its original is in the user prefix."""
    response = await upload(client, alice, jpeg())
    assert 202 == response.status_code, response.text
    item = response.json()
    assert "uploaded" == item["status"]
    assert "holiday.jpg" == item["filename"]
    async with aws.clients.client("s3") as s3:
        listing = await s3.list_objects_v2(
            Bucket="collections-images", Prefix=f"{alice.user_id}/images/"
        )
    keys = [entry["Key"] for entry in listing.get("Contents", [])]
    assert [f"{alice.user_id}/images/{item['id']}.jpg"] == keys


async def test_non_image_is_refused_with_415(client: TestClient, alice: User) -> None:
    """HTML sent as image/jpeg is refused by its content, whatever its name and type say."""
    response = await upload(client, alice, b"<html><script>alert(1)</script></html>")
    assert 415 == response.status_code
    assert "application/problem+json" == response.headers["content-type"]
    assert "unsupported_type" == response.json()["code"]


async def test_empty_file_is_refused(client: TestClient, alice: User) -> None:
    """A zero-byte upload gets a clear 4xx."""
    response = await upload(client, alice, b"")
    assert 422 == response.status_code
    assert "empty_file" == response.json()["code"]


async def test_idempotency_key_returns_the_same_item(client: TestClient, alice: User) -> None:
    """Retrying with the same key gives the same item; the key with other bytes is a 409."""
    first = await upload(client, alice, jpeg(seed=1), **{"Idempotency-Key": "abc-123-key"})
    again = await upload(client, alice, jpeg(seed=1), **{"Idempotency-Key": "abc-123-key"})
    other = await upload(client, alice, jpeg(seed=2), **{"Idempotency-Key": "abc-123-key"})
    assert first.json()["id"] == again.json()["id"]
    assert 409 == other.status_code


async def test_same_bytes_twice_link_to_the_existing_item(
    client: AsyncTestClient, alice: User
) -> None:  # type: ignore[type-arg]
    """Uploading identical bytes again does not create a second item."""
    first = await upload(client, alice, jpeg(seed=3))
    second = await upload(client, alice, jpeg(seed=3))
    assert first.json()["id"] == second.json()["id"]


async def test_same_bytes_from_two_users_are_two_items(
    client: AsyncTestClient,
    alice: User,
    bob: User,  # type: ignore[type-arg]
) -> None:
    """Duplicate detection is per user: nothing leaks about another user's files."""
    mine = await upload(client, alice, jpeg(seed=4))
    theirs = await upload(client, bob, jpeg(seed=4))
    assert 202 == theirs.status_code
    assert mine.json()["id"] != theirs.json()["id"]


async def test_listing_paginates_newest_first(client: TestClient, alice: User) -> None:
    """Three uploads come back two per page, newest first, then the rest with no next cursor."""
    ids = [(await upload(client, alice, jpeg(seed=10 + n))).json()["id"] for n in range(3)]
    first = (await client.get("/items?limit=2", headers=alice.headers)).json()
    second = (
        await client.get(f"/items?limit=2&cursor={first['next_cursor']}", headers=alice.headers)
    ).json()
    assert list(reversed(ids)) == [item["id"] for item in first["items"] + second["items"]]
    assert second["next_cursor"] is None


async def test_bad_cursor_and_page_size_are_client_errors(
    client: AsyncTestClient, alice: User
) -> None:  # type: ignore[type-arg]
    """A forged cursor or a page size over the cap is a 4xx, never a 500."""
    assert 422 == (await client.get("/items?cursor=bm9wZQ", headers=alice.headers)).status_code
    assert 422 == (await client.get("/items?limit=100000", headers=alice.headers)).status_code


async def test_other_users_item_is_404_everywhere(
    client: AsyncTestClient,
    alice: User,
    bob: User,  # type: ignore[type-arg]
) -> None:
    """Bob gets 404 for Alice's item on every item route, and her item survives."""
    item_id = (await upload(client, alice, jpeg(seed=20))).json()["id"]
    for method, path in [
        ("GET", f"/items/{item_id}"),
        ("GET", f"/items/{item_id}/analyses"),
        ("POST", f"/items/{item_id}/analyze"),
        ("POST", f"/items/{item_id}/reprocess"),
        ("DELETE", f"/items/{item_id}"),
    ]:
        response = await client.request(method, path, headers=bob.headers)
        assert 404 == response.status_code, (method, path, response.text)
    assert 200 == (await client.get(f"/items/{item_id}", headers=alice.headers)).status_code
    assert [] == (await client.get("/items", headers=bob.headers)).json()["items"]


async def test_delete_removes_the_row_and_the_objects(
    client: AsyncTestClient,
    alice: User,
    aws: AwsStack,  # type: ignore[type-arg]
) -> None:
    """After DELETE the item is 404 and its original is gone from the bucket."""
    item_id = (await upload(client, alice, jpeg(seed=30))).json()["id"]
    assert 204 == (await client.delete(f"/items/{item_id}", headers=alice.headers)).status_code
    assert 404 == (await client.get(f"/items/{item_id}", headers=alice.headers)).status_code
    async with aws.clients.client("s3") as s3:
        listing = await s3.list_objects_v2(Bucket="collections-images", Prefix=f"{alice.user_id}/")
    assert 0 == listing.get("KeyCount", 0)


async def test_unknown_item_is_404(client: TestClient, alice: User) -> None:
    """A random id is simply not found."""
    assert 404 == (await client.get(f"/items/{uuid.uuid4()}", headers=alice.headers)).status_code


async def test_requests_without_a_token_are_401_problems(client: TestClient) -> None:
    """No token, no data: a problem document without details."""
    response = await client.get("/items")
    assert 401 == response.status_code
    assert "missing or invalid access token" == response.json()["detail"]


async def test_presigned_upload_creates_a_pending_item(
    client: AsyncTestClient, alice: User
) -> None:  # type: ignore[type-arg]
    """A presign request registers a pending item and returns the POST form."""
    response = await client.post(
        "/items/uploads",
        json={"filename": "big.jpg", "content_type": "image/jpeg", "size": 1000},
        headers=alice.headers,
    )
    assert 201 == response.status_code, response.text
    body = response.json()
    assert body["fields"]["key"].startswith(f"{alice.user_id}/images/")
    item = (await client.get(f"/items/{body['item_id']}", headers=alice.headers)).json()
    assert "pending" == item["status"]


async def test_presign_refuses_unsupported_types_and_sizes(
    client: AsyncTestClient, alice: User
) -> None:  # type: ignore[type-arg]
    """SVG is not an allowed type (415) and a size over the cap is 413."""
    svg = await client.post(
        "/items/uploads",
        json={"filename": "x.svg", "content_type": "image/svg+xml", "size": 10},
        headers=alice.headers,
    )
    huge = await client.post(
        "/items/uploads",
        json={"filename": "x.jpg", "content_type": "image/jpeg", "size": 10**12},
        headers=alice.headers,
    )
    assert (415, 413) == (svg.status_code, huge.status_code)


async def test_weak_password_is_a_400_with_cognitos_reason(client: TestClient) -> None:
    """Sign-up with a password that fails the pool's policy says why."""
    response = await client.post(
        "/auth/signup",
        json={"email": f"weak-{uuid.uuid4().hex[:6]}@example.com", "password": "short"},
    )
    assert 400 == response.status_code
    assert "invalid_password" == response.json()["code"]


async def test_wrong_password_is_401(client: TestClient, alice: User) -> None:
    """A bad password does not reveal whether the account exists."""
    wrong = await client.post(
        "/auth/login", json={"email": alice.email, "password": "Wrong-pass-1"}
    )
    unknown = await client.post(
        "/auth/login", json={"email": "nobody@example.com", "password": "Wrong-pass-1"}
    )
    assert (401, 401) == (wrong.status_code, unknown.status_code)
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_idempotent_retry_restores_a_missing_original(
    client: TestClient,
    alice: User,
    aws: AwsStack,
) -> None:
    """A retry with the same key puts the bytes back if the first attempt lost them."""
    data = jpeg(seed=41)
    first = (await upload(client, alice, data, **{"Idempotency-Key": "restore-me-1"})).json()
    key = f"{alice.user_id}/images/{first['id']}.jpg"
    async with aws.clients.client("s3") as s3:
        await s3.delete_object(Bucket="collections-images", Key=key)
        again = await upload(client, alice, data, **{"Idempotency-Key": "restore-me-1"})
        stored = await (await s3.get_object(Bucket="collections-images", Key=key))["Body"].read()
    assert first["id"] == again.json()["id"]
    assert data == stored


async def test_lookup_finds_only_the_callers_own_uploads(
    client: TestClient,
    alice: User,
    bob: User,
) -> None:
    """Hashes of the caller's files are found; the same bytes uploaded by another user are not."""
    mine, theirs, unknown = jpeg(seed=21), jpeg(seed=22), jpeg(seed=23)
    item = (await upload(client, alice, mine)).json()
    await upload(client, bob, theirs)
    hashes = [hashlib.sha256(data).hexdigest() for data in (mine, theirs, unknown)]
    response = await client.post("/items/lookup", json={"sha256": hashes}, headers=alice.headers)
    assert 200 == response.status_code, response.text
    assert [{"sha256": hashes[0], "item_id": item["id"], "status": "uploaded"}] == response.json()[
        "found"
    ]


async def test_lookup_refuses_what_is_not_a_sha256(client: TestClient, alice: User) -> None:
    """Upper case, short or too many hashes are 422 problems, never a query."""
    for body in (
        {"sha256": ["A" * 64]},
        {"sha256": ["abc"]},
        {"sha256": []},
        {"sha256": ["0" * 64] * 1001},
    ):
        response = await client.post("/items/lookup", json=body, headers=alice.headers)
        assert 422 == response.status_code, body
