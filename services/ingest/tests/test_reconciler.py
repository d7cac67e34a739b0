"""The reconciler: which unfinished items it re-drives, when it fails them, and what it sends."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from collections_devtools.testing.fixtures import AwsStack, DatabaseUnderTest
from collections_ingest.reconciler import Reconciler, plan, plan_pending
from collections_ingest.repository import UnfinishedItem
from collections_ingest.settings import Settings
from collections_shared.db import create_pool
from collections_shared.publisher import EventPublisher

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
SETTINGS = Settings(stuck_after_seconds=300, max_redrives=3, upload_grace_seconds=1200)


def _unfinished(status: str, *, idle: float, redrives: int = 0) -> UnfinishedItem:
    return UnfinishedItem(
        user_id="user-1",
        item_id=uuid.uuid4(),
        status=status,
        original_key="user-1/images/x.jpg",
        correlation_id="req",
        redrive_count=redrives,
        status_changed_at=NOW - timedelta(seconds=idle),
    )


@pytest.mark.parametrize(
    ("redrives", "idle", "expected"),
    [
        (0, 299, "wait"),
        (0, 300, "redrive"),
        (1, 599, "wait"),
        (1, 600, "redrive"),
        (2, 1199, "wait"),
        (2, 1200, "redrive"),
        (3, 2399, "wait"),
        (3, 2400, "fail_stuck"),
    ],
)
def test_each_redrive_waits_twice_as_long_and_the_last_one_fails(
    redrives: int, idle: float, expected: str
) -> None:
    """An item idle for stuck_after x 2^n is re-driven; after max_redrives it fails as stuck."""
    for status in ("uploaded", "processed", "analyzed"):
        assert expected == plan(_unfinished(status, idle=idle, redrives=redrives), NOW, SETTINGS)


def test_a_pending_upload_is_looked_at_on_every_pass() -> None:
    """A presigned upload is checked on every pass, without the re-drives' growing wait."""
    assert "check_upload" == plan(_unfinished("pending", idle=400, redrives=2), NOW, SETTINGS)
    assert "fail_stuck" == plan(_unfinished("pending", idle=1, redrives=3), NOW, SETTINGS)


@pytest.mark.parametrize(
    ("idle", "arrived", "expected"),
    [
        (10, True, "ingest"),
        (5000, True, "ingest"),
        (1200, False, "wait"),
        (1201, False, "fail_upload_missing"),
    ],
)
def test_a_pending_upload_is_ingested_once_there_or_failed_once_its_url_is_long_dead(
    idle: float, arrived: bool, expected: str
) -> None:
    """An arrived object is ingested at once; a missing one fails only after the grace period."""
    item = _unfinished("pending", idle=idle)
    assert expected == plan_pending(item, NOW, SETTINGS, arrived=arrived)


# --- one pass against PostgreSQL and the emulator ------------------------------------------------


@dataclass
class Pass:
    owner: asyncpg.Connection
    reconciler: Reconciler
    aws: AwsStack
    s3: Any
    sqs: Any
    user_id: str

    async def item(
        self, status: str, *, idle: float, redrives: int = 0, analysis_version: int | None = None
    ) -> uuid.UUID:
        """An item of ``user_id`` in ``status``, unchanged for ``idle`` seconds."""
        item_id = uuid.uuid4()
        await self.owner.execute(
            """INSERT INTO items (id, user_id, status, original_key, filename, redrive_count,
                                  status_changed_at, sha256, mime_type, width, height)
               VALUES ($1, $2, $3, $4, 'photo.jpg', $5, now() - make_interval(secs => $6),
                       $7, 'image/jpeg', 4, 3)""",
            item_id, self.user_id, status, f"{self.user_id}/images/{item_id}.jpg", redrives,
            idle, uuid.uuid4().hex * 2,
        )  # fmt: skip
        if analysis_version is not None:
            analysis_id = uuid.uuid4()
            await self.owner.execute(
                """INSERT INTO analyses (id, item_id, user_id, version, source_event_id, provider,
                       model, prompt_version, category, summary, description, tags, objects,
                       visible_text, colors, setting, data)
                   VALUES ($1, $2, $3, $4, $5, 'local', 'test', 'v1', 'other', 's', 'd', '{}',
                           '{}', '', '{}', '', '{}')""",
                analysis_id, item_id, self.user_id, analysis_version, uuid.uuid4(),
            )  # fmt: skip
            await self.owner.execute(
                "UPDATE items SET latest_analysis_id = $1 WHERE id = $2", analysis_id, item_id
            )
        return item_id

    async def row(self, item_id: uuid.UUID) -> asyncpg.Record:
        row = await self.owner.fetchrow("SELECT * FROM items WHERE id = $1", item_id)
        assert row is not None
        return row

    async def delivered(self, queue: str) -> list[dict[str, Any]]:
        """The event details the bus routed to ``queue`` so far (not S3's own notifications)."""
        response = await self.sqs.receive_message(
            QueueUrl=self.aws.outputs.queue_urls[queue], MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        bodies = [json.loads(message["Body"]) for message in response.get("Messages", [])]
        return [body["detail"] for body in bodies if "detail" in body]


@pytest.fixture(name="one_pass")
async def fx_one_pass(database: DatabaseUnderTest, aws: AwsStack) -> AsyncIterator[Pass]:
    settings = Settings(
        database_url=database.app_dsn,
        aws_endpoint_url=aws.endpoint,
        stuck_after_seconds=300,
        max_redrives=3,
        upload_grace_seconds=1200,
    )
    pool = await create_pool(database.app_dsn)
    owner = await asyncpg.connect(database.owner_dsn)
    try:
        async with (
            aws.clients.client("s3") as s3,
            aws.clients.client("sqs") as sqs,
            aws.clients.client("events") as events,
        ):
            publisher = EventPublisher(events, bus_name="collections", source="collections.ingest")
            reconciler = Reconciler(pool, s3, publisher, settings)
            yield Pass(owner, reconciler, aws, s3, sqs, f"user-{uuid.uuid4().hex[:8]}")
    finally:
        await owner.close()
        await pool.close()


async def test_a_pass_redrives_each_stage_with_the_event_it_waits_for(one_pass: Pass) -> None:
    """Uploaded, processed and analyzed items idle past the limit get their next stage's event."""
    uploaded = await one_pass.item("uploaded", idle=400)
    processed = await one_pass.item("processed", idle=400)
    analyzed = await one_pass.item("analyzed", idle=400, analysis_version=2)
    fresh = await one_pass.item("processed", idle=10)
    assert 3 == await one_pass.reconciler.reconcile_once()
    ingest = await one_pass.delivered("collections-ingest")
    analyzer = await one_pass.delivered("collections-analyzer")
    embedder = await one_pass.delivered("collections-embedder")
    assert [str(uploaded)] == [event["item_id"] for event in ingest]
    assert [str(processed)] == [event["item_id"] for event in analyzer]
    assert [(str(analyzed), 2)] == [(event["item_id"], event["version"]) for event in embedder]
    assert [1, 1, 1, 0] == [
        (await one_pass.row(item))["redrive_count"]
        for item in (uploaded, processed, analyzed, fresh)
    ]
    # The re-drive restarted the idle clock: the next pass leaves them alone.
    assert 0 == await one_pass.reconciler.reconcile_once()


async def test_an_item_redriven_too_often_fails_as_stuck(one_pass: Pass) -> None:
    """After max_redrives re-drives without progress the item is failed with code stuck."""
    item_id = await one_pass.item("processed", idle=300 * 2**3, redrives=3)
    with capture_logs(processors=[merge_contextvars]) as logs:
        assert 1 == await one_pass.reconciler.reconcile_once()
    failed = [entry for entry in logs if entry["event"] == "item_failed_by_reconciler"]
    assert [("stuck", str(item_id), one_pass.user_id)] == [
        (entry["code"], entry["item_id"], entry["user_id"]) for entry in failed
    ]
    row = await one_pass.row(item_id)
    assert ("failed", "reconcile", "stuck") == (
        row["status"],
        row["failure_stage"],
        row["failure_code"],
    )
    assert [] == await one_pass.delivered("collections-analyzer")


async def test_pending_uploads_are_ingested_when_there_and_failed_when_long_missing(
    one_pass: Pass,
) -> None:
    """A pending upload whose object exists is ingested; one never uploaded fails after grace."""
    arrived = await one_pass.item("pending", idle=400)
    recent = await one_pass.item("pending", idle=400)
    missing = await one_pass.item("pending", idle=1300)
    key = (await one_pass.row(arrived))["original_key"]
    await one_pass.s3.put_object(Bucket="collections-images", Key=key, Body=b"bytes")
    assert 3 == await one_pass.reconciler.reconcile_once()
    statuses = [(await one_pass.row(item))["status"] for item in (arrived, recent, missing)]
    assert ["uploaded", "pending", "failed"] == statuses
    assert "upload_missing" == (await one_pass.row(missing))["failure_code"]
    ingest = await one_pass.delivered("collections-ingest")
    assert [(str(arrived), key)] == [(event["item_id"], event["original_key"]) for event in ingest]


async def test_only_one_reconciler_acts_at_a_time(
    one_pass: Pass, database: DatabaseUnderTest
) -> None:
    """While another session holds the reconciler's lock, a pass does nothing."""
    await one_pass.item("uploaded", idle=400)
    other = await asyncpg.connect(database.app_dsn)
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", 0x636F6C6C7265636E)
        assert 0 == await one_pass.reconciler.reconcile_once()
    finally:
        await other.close()
    assert 1 == await one_pass.reconciler.reconcile_once()
