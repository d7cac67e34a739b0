"""``GET /items/summary``: the caller's counts per status, items in progress, failed items."""

from __future__ import annotations

import uuid

import asyncpg

from collections_devtools.testing.api import ApiUser as User
from collections_devtools.testing.api import upload
from collections_devtools.testing.client import TestClient
from collections_devtools.testing.fixtures import DatabaseUnderTest
from collections_devtools.testing.images import jpeg


async def _fail(database: DatabaseUnderTest, item_id: str) -> None:
    """Mark an item failed at analysis, as the analyzer would."""
    owner = await asyncpg.connect(database.owner_dsn)
    try:
        await owner.execute(
            """UPDATE items SET status = 'failed', failure_stage = 'analyze',
                      failure_code = 'server_error', failure_message = 'all providers failed',
                      status_changed_at = now() WHERE id = $1""",
            uuid.UUID(item_id),
        )
    finally:
        await owner.close()


async def test_summary_counts_lists_and_explains(
    client: TestClient,
    alice: User,
    database: DatabaseUnderTest,
) -> None:
    """Counts cover every status; in-progress items name their stage, failed ones their reason."""
    uploaded = [(await upload(client, alice, jpeg(seed=n))).json()["id"] for n in range(3)]
    pending = await client.post(
        "/items/uploads",
        json={"filename": "later.jpg", "content_type": "image/jpeg", "size": 1000},
        headers=alice.headers,
    )
    await _fail(database, uploaded[0])
    response = await client.get("/items/summary", headers=alice.headers)
    assert 200 == response.status_code, response.text
    summary = response.json()
    assert 4 == summary["total"]
    assert {
        "pending": 1,
        "uploaded": 2,
        "processed": 0,
        "analyzed": 0,
        "searchable": 0,
        "failed": 1,
    } == summary["by_status"]
    stages = {entry["id"]: entry["stage"] for entry in summary["in_progress"]}
    assert {uploaded[1]: "ingest", uploaded[2]: "ingest", pending.json()["item_id"]: "upload"} == (
        stages
    )
    (failed,) = summary["failed"]
    assert uploaded[0] == failed["id"]
    assert "analyze" == failed["stage"]
    assert {"stage": "analyze", "code": "server_error", "message": "all providers failed"} == (
        failed["failure"]
    )


async def test_summary_shows_only_the_callers_items(
    client: TestClient,
    alice: User,
    bob: User,
) -> None:
    """Another user's uploads appear in no count and no list; without a token it is 401."""
    await upload(client, alice, jpeg(seed=7))
    theirs = (await client.get("/items/summary", headers=bob.headers)).json()
    assert 0 == theirs["total"]
    assert [] == theirs["in_progress"]
    assert 401 == (await client.get("/items/summary")).status_code
