"""Analysis versions in-process: the owner's edits, restores, the version list and tenancy."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from collections_devtools.testing.api import ApiUser as User
from collections_devtools.testing.api import upload
from collections_devtools.testing.client import TestClient
from collections_devtools.testing.fixtures import AwsStack, DatabaseUnderTest
from collections_devtools.testing.images import jpeg
from collections_shared.db import Pool, create_pool, tenant_transaction
from collections_shared.domain.analysis import Analysis, Provenance, ProviderFailure
from collections_shared.events import decode_envelope
from collections_shared.repository.analyses import insert_analysis

LOCAL = Analysis(
    category="food",
    summary="A photo with a bowl, mostly red.",
    tags=["bowl", "food"],
    objects=["bowl"],
    text="RAMEN 980 YEN",
    text_lines=["RAMEN 980 YEN"],
)


@pytest.fixture(name="pool")
async def fx_pool(database: DatabaseUnderTest) -> AsyncIterator[Pool]:
    pool = await create_pool(database.app_dsn, max_size=2)
    yield pool
    await pool.close()


async def analyzed_item(client: TestClient, pool: Pool, user: User, *, seed: int = 1) -> str:
    """An uploaded item with one ``local`` analysis whose second provider answered."""
    item_id = (await upload(client, user, jpeg(seed=seed))).json()["id"]
    async with tenant_transaction(pool, user.user_id) as connection:
        await insert_analysis(
            connection,
            user_id=user.user_id,
            item_id=uuid.UUID(item_id),
            source_event_id=uuid.uuid4(),
            analysis=LOCAL,
            provenance=Provenance(
                provider="local",
                model="local-v2",
                prompt_version="local",
                fallback=[ProviderFailure(provider="anthropic", code="auth_failed")],
            ),
        )
        await connection.execute("UPDATE items SET status = 'searchable' WHERE id = $1", item_id)
    return str(item_id)


async def embedder_events(aws: AwsStack) -> list[Any]:
    url = aws.outputs.queue_urls["collections-embedder"]
    async with aws.clients.client("sqs") as sqs:
        response = await sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
    return [decode_envelope(message["Body"]).detail for message in response.get("Messages", [])]


async def test_edit_makes_a_user_version_and_asks_for_an_embedding(
    client: TestClient, pool: Pool, alice: User, aws: AwsStack
) -> None:
    """PATCH stores version 2 by ``user`` with the edited fields, and AnalysisComplete follows."""
    item_id = await analyzed_item(client, pool, alice)
    edit = {
        "headline": "Ramen in Kyoto",
        "places": ["Kyoto", " Gion "],
        "tags": ["Ramen", "noodles"],
    }

    response = await client.patch(f"/items/{item_id}/analysis", json=edit, headers=alice.headers)

    assert 200 == response.status_code, response.text
    body = response.json()
    assert (2, "user") == (body["version"], body["provider"])
    assert ["Kyoto", "Gion"] == body["analysis"]["places"]
    assert ["ramen", "noodles"] == body["analysis"]["tags"]
    assert "A photo with a bowl, mostly red." == body["analysis"]["summary"]
    assert ["headline", "tags", "places"] == body["user_fields"]
    assert ["headline", "tags", "places"] == body["changed"]
    detail = (await client.get(f"/items/{item_id}", headers=alice.headers)).json()
    assert ("analyzed", 2, "Ramen in Kyoto") == (
        detail["status"],
        detail["analysis"]["version"],
        detail["analysis"]["analysis"]["headline"],
    )
    events = await embedder_events(aws)
    assert [(uuid.UUID(item_id), 2)] == [(event.item_id, event.version) for event in events]


async def test_versions_list_says_what_changed_and_restore_copies_an_old_one(
    client: TestClient, pool: Pool, alice: User
) -> None:
    """Versions come newest first with their changes; a restore is a new version like the old."""
    item_id = await analyzed_item(client, pool, alice)
    await client.patch(
        f"/items/{item_id}/analysis",
        json={"summary": "Ramen at a counter.", "text": "RAMEN 980 YEN\nOPEN 11-23"},
        headers=alice.headers,
    )

    restored = await client.post(f"/items/{item_id}/analyses/1/restore", headers=alice.headers)
    listing = (await client.get(f"/items/{item_id}/analyses", headers=alice.headers)).json()

    assert 201 == restored.status_code, restored.text
    body = restored.json()
    assert (3, "local", 1) == (body["version"], body["provider"], body["restored_from"])
    assert msgspec.to_builtins(LOCAL) == body["analysis"]
    assert [{"provider": "anthropic", "code": "auth_failed", "message": ""}] == body["fallback"]
    versions = listing["analyses"]
    assert [3, 2, 1] == [version["version"] for version in versions]
    assert ["summary", "text", "text_lines"] == versions[1]["changed"]
    assert ["summary", "text", "text_lines"] == versions[0]["changed"]
    assert {"category", "summary", "tags", "objects", "text", "text_lines"} == set(
        versions[2]["changed"]
    )


async def test_invalid_edits_are_422(client: TestClient, pool: Pool, alice: User) -> None:
    """Unknown fields, values over a cap, an unknown category and an empty edit are refused."""
    item_id = await analyzed_item(client, pool, alice)
    bad = [
        {"colour": "red"},
        {"headline": "x" * 121},
        {"category": "cats"},
        {"tags": "dog"},
        {},
        {"summary": "", "tags": [], "objects": [], "text": ""},
    ]
    for body in bad:
        response = await client.patch(
            f"/items/{item_id}/analysis", json=body, headers=alice.headers
        )
        assert 422 == response.status_code, (body, response.text)
        assert "application/problem+json" == response.headers["content-type"]
    listing = (await client.get(f"/items/{item_id}/analyses", headers=alice.headers)).json()
    assert 1 == len(listing["analyses"])


async def test_restore_of_missing_or_current_version(
    client: TestClient, pool: Pool, alice: User
) -> None:
    """A version that does not exist is 404; restoring the current one is a 409."""
    item_id = await analyzed_item(client, pool, alice)
    missing = await client.post(f"/items/{item_id}/analyses/7/restore", headers=alice.headers)
    current = await client.post(f"/items/{item_id}/analyses/1/restore", headers=alice.headers)
    assert (404, 409) == (missing.status_code, current.status_code)


async def test_item_without_analysis_cannot_be_edited(client: TestClient, alice: User) -> None:
    """An item the analyzer has not reached yet answers 409 ``not_analyzed``."""
    item_id = (await upload(client, alice, jpeg(seed=9))).json()["id"]
    response = await client.patch(
        f"/items/{item_id}/analysis", json={"summary": "mine"}, headers=alice.headers
    )
    assert (409, "not_analyzed") == (response.status_code, response.json()["code"])


async def test_another_users_item_is_404(
    client: TestClient, pool: Pool, alice: User, bob: User
) -> None:
    """Bob can neither list, edit nor restore Alice's versions, and learns nothing about them."""
    item_id = await analyzed_item(client, pool, alice)
    await client.patch(f"/items/{item_id}/analysis", json={"summary": "v2"}, headers=alice.headers)
    attempts = [
        await client.get(f"/items/{item_id}/analyses", headers=bob.headers),
        await client.patch(
            f"/items/{item_id}/analysis", json={"summary": "bob"}, headers=bob.headers
        ),
        await client.post(f"/items/{item_id}/analyses/1/restore", headers=bob.headers),
    ]
    assert [404, 404, 404] == [response.status_code for response in attempts]
    listing = (await client.get(f"/items/{item_id}/analyses", headers=alice.headers)).json()
    assert ["v2"] == [v["analysis"]["summary"] for v in listing["analyses"][:1]]
