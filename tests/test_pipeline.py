"""Upload to searchable across all six services, on the real local stack (local providers)."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from PIL import Image

from collections_devtools import hostile_images
from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import ApiUser, sign_up, upload
from collections_devtools.testing.golden import golden_dir
from collections_devtools.testing.images import jpeg
from collections_devtools.testing.terminal import wait_terminal
from collections_shared.aws import AwsClients

pytestmark = [pytest.mark.slow, pytest.mark.stack]


async def owner(stack: LocalStack) -> asyncpg.Connection:
    return await asyncpg.connect(stack.owner_database_url())


async def test_golden_photos_all_become_searchable(
    stack: LocalStack, api: httpx.AsyncClient, user: ApiUser
) -> None:
    """All 52 golden photos reach ``searchable``; derivatives carry no EXIF; search finds them."""
    folder = golden_dir()
    rows = [
        json.loads(line)
        for line in (folder / "captions.jsonl").read_text().splitlines()
        if line.strip()
    ]
    ids = []
    for row in rows:
        response = await upload(
            api, user, (folder / row["file"]).read_bytes(), filename=row["file"].split("/")[-1]
        )
        assert 202 == response.status_code, response.text
        ids.append(response.json()["id"])
    items = await wait_terminal(api, user, ids)
    failed = {
        item_id: item["failure"]
        for item_id, item in items.items()
        if item["status"] != "searchable"
    }
    assert {} == failed
    sample = items[ids[0]]
    async with httpx.AsyncClient() as plain:
        preview = (await plain.get(sample["preview_url"])).content
    assert 0 == len(Image.open(io.BytesIO(preview)).getexif())
    assert sample["analysis"]["provider"] == "local"
    query = {"query": rows[0]["captions"][1], "limit": 52}
    # 52 uploads and 52 detail reads came just before: wait out the per-user minute if need be.
    while (
        searched := await api.post("/search", json=query, headers=user.headers)
    ).status_code == 429:
        await asyncio.sleep(float(searched.headers["retry-after"]))
    found = searched.json()
    assert found["results"], found


async def test_every_event_delivered_twice_changes_nothing(
    stack: LocalStack, api: httpx.AsyncClient, user: ApiUser
) -> None:
    """Replaying the S3 notification and every event leaves rows and objects as they were."""
    item_id = (await upload(api, user, jpeg(320, 240, seed=901))).json()["id"]
    await wait_terminal(api, user, [item_id])
    before = await _footprint(stack, user, item_id)
    await _replay(stack, user, item_id)
    await asyncio.sleep(6)  # let every consumer see the replays
    assert before == await _footprint(stack, user, item_id)


async def _footprint(stack: LocalStack, user: ApiUser, item_id: str) -> dict[str, Any]:
    connection = await owner(stack)
    try:
        row = await connection.fetchrow(
            """SELECT i.status, i.generation,
                      (SELECT count(*) FROM analyses a WHERE a.item_id = i.id) AS analyses,
                      (SELECT count(*) FROM embeddings e WHERE e.item_id = i.id) AS embeddings,
                      (SELECT max(created_at) FROM embeddings e WHERE e.item_id = i.id)
                          AS embedded_at
                 FROM items i WHERE i.id = $1""",
            uuid.UUID(item_id),
        )
    finally:
        await connection.close()
    aws = AwsClients(region="us-east-1", endpoint_url=stack.config.aws_endpoint)
    async with aws.client("s3") as s3:
        listing = await s3.list_objects_v2(Bucket="collections-images", Prefix=f"{user.user_id}/")
    return {**dict(row), "objects": sorted(entry["Key"] for entry in listing.get("Contents", []))}


async def _replay(stack: LocalStack, user: ApiUser, item_id: str) -> None:
    """Send the S3 notification again and re-publish the item's events as their producers do."""
    from collections_shared.db import create_pool
    from collections_shared.events import AnalysisComplete, ImageProcessed
    from collections_shared.publisher import EventPublisher
    from collections_shared.repository.items import get_item

    assert stack.outputs is not None
    pool = await create_pool(stack.owner_database_url(), max_size=1)  # decodes jsonb like services
    try:
        async with pool.acquire() as connection:
            item = await get_item(connection, uuid.UUID(item_id))
            assert item is not None
            analysis = await connection.fetchrow(
                "SELECT id, version FROM analyses WHERE item_id = $1", item.id
            )
    finally:
        await pool.close()
    aws = AwsClients(region="us-east-1", endpoint_url=stack.config.aws_endpoint)
    notification = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"object": {"key": item.original_key, "size": 1}},
            }
        ]
    }
    async with aws.client("sqs") as sqs, aws.client("events") as events:
        await sqs.send_message(
            QueueUrl=stack.outputs.queue_urls["collections-ingest"],
            MessageBody=json.dumps(notification),
        )
        publisher = EventPublisher(events, bus_name="collections", source="collections.test")
        await publisher.publish(
            ImageProcessed.build(item, bucket="collections-images"),
            AnalysisComplete.build(
                user_id=user.user_id,
                item_id=item.id,
                correlation_id=item.correlation_id,
                analysis_id=analysis["id"],
                version=analysis["version"],
            ),
        )


async def test_presigned_upload_goes_through_the_pipeline(
    stack: LocalStack, api: httpx.AsyncClient, user: ApiUser
) -> None:
    """A browser-style presigned POST straight to S3 ends searchable like a gateway upload."""
    data = jpeg(200, 150, seed=902)
    presign = (
        await api.post(
            "/items/uploads",
            json={"filename": "direct.jpg", "content_type": "image/jpeg", "size": len(data)},
            headers=user.headers,
        )
    ).json()
    async with httpx.AsyncClient() as plain:
        posted = await plain.post(
            presign["url"],
            data=presign["fields"],
            files={"file": ("direct.jpg", data, "image/jpeg")},
        )
    assert posted.status_code in (200, 201, 204), posted.text
    items = await wait_terminal(api, user, [presign["item_id"]])
    assert "searchable" == items[presign["item_id"]]["status"]


async def test_imported_analysis_skips_the_analyzer(
    stack: LocalStack, api: httpx.AsyncClient, user: ApiUser
) -> None:
    """An analysis supplied on upload is stored as provider ``import``; the item is searchable."""
    analysis = {
        "category": "food",
        "summary": "A bowl of ramen on a wooden table.",
        "tags": ["ramen", "noodles"],
    }
    response = await api.post(
        "/items",
        files={"file": ("ramen.jpg", jpeg(120, 90, seed=903), "image/jpeg")},
        data={"analysis": json.dumps(analysis)},
        headers=user.headers,
    )
    item_id = response.json()["id"]
    item = (await wait_terminal(api, user, [item_id]))[item_id]
    assert ("searchable", "import") == (item["status"], item["analysis"]["provider"])
    assert "A bowl of ramen on a wooden table." == item["analysis"]["analysis"]["summary"]
    found = (
        await api.post(
            "/search", json={"query": "ramen noodles", "mode": "keyword"}, headers=user.headers
        )
    ).json()
    assert item_id in [result["item_id"] for result in found["results"]]


async def test_corrupt_upload_fails_with_its_reason(
    stack: LocalStack, api: httpx.AsyncClient, user: ApiUser
) -> None:
    """A truncated JPEG passes the gateway's sniff but fails at ingest with ``corrupt_image``."""
    data = jpeg(400, 300, seed=904)[:600]
    item_id = (await upload(api, user, data)).json()["id"]
    item = (await wait_terminal(api, user, [item_id]))[item_id]
    assert ("failed", "ingest", "corrupt_image") == (
        item["status"],
        item["failure"]["stage"],
        item["failure"]["code"],
    )


async def test_reanalysis_adds_a_version(
    stack: LocalStack, api: httpx.AsyncClient, user: ApiUser
) -> None:
    """POST /items/{id}/analyze creates analysis version 2 and the item is searchable again."""
    item_id = (await upload(api, user, jpeg(160, 120, seed=905))).json()["id"]
    await wait_terminal(api, user, [item_id])
    assert 202 == (await api.post(f"/items/{item_id}/analyze", headers=user.headers)).status_code
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        versions = (await api.get(f"/items/{item_id}/analyses", headers=user.headers)).json()[
            "analyses"
        ]
        if len(versions) == 2:
            break
        await asyncio.sleep(0.5)
    assert [2, 1] == [version["version"] for version in versions]
    item = (await wait_terminal(api, user, [item_id]))[item_id]
    assert "searchable" == item["status"]


async def test_gps_is_stored_only_for_users_who_turned_it_on(
    stack: LocalStack, api: httpx.AsyncClient, user: ApiUser
) -> None:
    """The same geotagged photo keeps its position for an opted-in user only, until switched off."""
    photo = hostile_images.jpeg(320, 240, exif=hostile_images.exif_block(gps=(48.858222, 2.2945)))
    other = await sign_up(api, f"e2e-{uuid.uuid4().hex[:10]}@example.com")
    opt_in = await api.patch("/me/preferences", json={"keep_gps": True}, headers=user.headers)
    assert 200 == opt_in.status_code, opt_in.text
    ids = {}
    for owner_of in (user, other):
        ids[owner_of.user_id] = (await upload(api, owner_of, photo)).json()["id"]
    kept = (await wait_terminal(api, user, [ids[user.user_id]]))[ids[user.user_id]]
    dropped = (await wait_terminal(api, other, [ids[other.user_id]]))[ids[other.user_id]]
    assert (48.858, 2.294) == (
        round(kept["exif"]["gps_latitude"], 3),
        round(kept["exif"]["gps_longitude"], 3),
    )
    assert "gps_latitude" not in dropped["exif"]
    assert "Canon" == dropped["exif"]["camera_make"]
    await api.patch("/me/preferences", json={"keep_gps": False}, headers=user.headers)
    forgotten = (await api.get(f"/items/{ids[user.user_id]}", headers=user.headers)).json()
    assert "gps_latitude" not in forgotten["exif"]


async def _status_events(
    api: httpx.AsyncClient,
    user: ApiUser,
    until: str,
    sink: list[dict[str, Any]],
    connected: asyncio.Event,
) -> list[str]:
    """Read ``GET /events`` as a browser would, until an event with status ``until`` arrives.

    Returns the raw lines; parsed ``status`` events go to ``sink`` as they come.
    """
    lines: list[str] = []
    async with api.stream("GET", "/events", headers=user.headers, timeout=None) as stream:
        event = ""
        async for line in stream.aiter_lines():
            lines.append(line)
            if line == ": connected":
                connected.set()
            elif not line:
                event = ""
            elif line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "status":
                sink.append(json.loads(line.split(":", 1)[1]))
                if sink[-1]["status"] == until:
                    return lines
    return lines


async def test_status_events_follow_an_item_and_only_the_callers(
    stack: LocalStack, api: httpx.AsyncClient, user: ApiUser
) -> None:
    """GET /events streams the caller's item through every status; another user sees nothing."""
    other = await sign_up(api, f"e2e-{uuid.uuid4().hex[:10]}@example.com")
    mine: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    subscribed = [asyncio.Event(), asyncio.Event()]
    following = asyncio.create_task(_status_events(api, user, "searchable", mine, subscribed[0]))
    watching = asyncio.create_task(_status_events(api, other, "searchable", theirs, subscribed[1]))
    await asyncio.wait_for(asyncio.gather(*(flag.wait() for flag in subscribed)), timeout=10)
    item_id = (await upload(api, user, jpeg(200, 150, seed=907))).json()["id"]
    lines = await asyncio.wait_for(following, timeout=60)
    watching.cancel()
    assert ["uploaded", "processed", "analyzed", "searchable"] == [
        change["status"] for change in mine if change["item_id"] == item_id
    ]
    assert [] == theirs
    # Comments (connected, keep-alive) carry no data: every data line belongs to a status event.
    assert all(line != "data: " for line in lines)
