"""The reconciler: no item stays in a non-terminal status forever.

Every ``interval`` seconds, one process (a PostgreSQL advisory lock elects it) looks for items that
have not changed status for ``stuck_after`` seconds and re-drives them by re-publishing the event
their next stage is waiting for (consumers are idempotent, so a re-drive of work that was in fact
done changes nothing). Each further re-drive waits twice as long (``stuck_after`` x 2^n after the
previous one), so an item that is only queued behind a backlog is not failed, and re-drives do
not pile copies onto that backlog. An item re-driven ``max_redrives`` times without progress is
marked ``failed`` (``stuck``). A presigned upload that never arrived is failed as
``upload_missing`` once its URL has long expired; if the object is there after all (a lost S3
notification), it is ingested.

What to do with an item is decided by :func:`plan` and :func:`plan_pending` (pure, given the
time); :class:`Reconciler` reads the rows, asks S3 whether a pending upload arrived, and acts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

import asyncpg
from botocore.exceptions import BotoCoreError, ClientError

from collections_ingest import repository
from collections_ingest.repository import UnfinishedItem
from collections_ingest.settings import Settings
from collections_shared.db import Pool, tenant_transaction
from collections_shared.domain.item import ItemRecord
from collections_shared.errors import PermanentError, TransientError
from collections_shared.events import (
    AnalysisComplete,
    Event,
    ImageProcessed,
    ReprocessRequested,
    utc_now,
)
from collections_shared.logging import bind_unit_of_work, get_logger
from collections_shared.publisher import EventPublisher
from collections_shared.worker import fail_item

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

log = get_logger(__name__)

_BATCH = 200

Plan = Literal["wait", "redrive", "fail_stuck", "check_upload"]
PendingPlan = Literal["wait", "ingest", "fail_upload_missing"]


def plan(item: UnfinishedItem, now: datetime, settings: Settings) -> Plan:
    """What one pass does with an unfinished item.

    Idle for ``stuck_after`` x 2^(re-drives so far): re-drive it, or fail it as ``stuck`` once it
    has been re-driven ``max_redrives`` times. A pending upload (idle ``stuck_after`` at least, as
    every row the pass reads) is looked at on every pass, without the growing wait.
    """
    if item.status != "pending":
        idle = (now - item.status_changed_at).total_seconds()
        if idle < settings.stuck_after_seconds * 2**item.redrive_count:
            return "wait"
    if item.redrive_count >= settings.max_redrives:
        return "fail_stuck"
    return "check_upload" if item.status == "pending" else "redrive"


def plan_pending(
    item: UnfinishedItem, now: datetime, settings: Settings, *, arrived: bool
) -> PendingPlan:
    """A presigned upload: ingest it if its object is there, fail it once its URL is long dead."""
    if arrived:
        return "ingest"
    age = (now - item.status_changed_at).total_seconds()
    return "fail_upload_missing" if age > settings.upload_grace_seconds else "wait"


def next_event(item: ItemRecord, bucket: str, analysis_version: int | None) -> Event | None:
    """The event the item's next stage waits for (None once nothing waits on the pipeline)."""
    if item.status == "uploaded":
        return ReprocessRequested.build(item)
    if item.status == "processed":
        return ImageProcessed.build(item, bucket=bucket)
    if item.status == "analyzed" and item.latest_analysis_id is not None:
        return AnalysisComplete.build(
            user_id=item.user_id,
            item_id=item.id,
            correlation_id=item.correlation_id,
            analysis_id=item.latest_analysis_id,
            version=analysis_version or 1,
        )
    return None


class Reconciler:
    def __init__(
        self,
        pool: Pool,
        s3: S3Client,
        publisher: EventPublisher,
        settings: Settings,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._pool = pool
        self._s3 = s3
        self._publisher = publisher
        self._settings = settings
        self._clock = clock

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), timeout=self._settings.reconcile_interval_seconds
                )
            if stop.is_set():
                return
            try:
                await self.reconcile_once()
            except (OSError, asyncpg.PostgresError, TransientError) as error:
                log.warning("reconcile_failed", error=str(error))

    async def reconcile_once(self) -> int:
        """One pass; returns how many items were acted on (0 if another process holds the lock)."""
        acted = 0
        async with (
            self._pool.acquire() as connection,
            repository.reconciler_lock(connection) as elected,
        ):
            if not elected:
                return 0
            items = await repository.unfinished_items(
                connection,
                idle_for=timedelta(seconds=self._settings.stuck_after_seconds),
                limit=_BATCH,
            )
            for item in items:
                acted += await self._reconcile(item)
        return acted

    async def _reconcile(self, item: UnfinishedItem) -> int:
        """Act on one item; 1 if its plan was anything but waiting."""
        action = plan(item, self._clock(), self._settings)
        if action == "wait":
            return 0
        bind_unit_of_work(
            user_id=item.user_id, item_id=str(item.item_id), correlation_id=item.correlation_id
        )
        match action:
            case "fail_stuck":
                await self._fail(item, "stuck", "the item stopped making progress")
            case "check_upload":
                await self._pending(item)
            case "redrive":
                await self._redrive(item)
        return 1

    async def _redrive(self, unfinished: UnfinishedItem) -> None:
        async with tenant_transaction(self._pool, unfinished.user_id) as connection:
            item = await repository.count_redrive(connection, unfinished.item_id)
        if item is None:
            return
        event = await self._next_event(item)
        if event is not None:
            log.info("item_redriven", status=item.status, redrive=item.redrive_count)
            await self._publisher.publish(event)

    async def _next_event(self, item: ItemRecord) -> Event | None:
        version = None
        if item.status == "analyzed" and item.latest_analysis_id is not None:
            async with tenant_transaction(self._pool, item.user_id) as connection:
                version = await repository.analysis_version(connection, item.latest_analysis_id)
        return next_event(item, self._settings.bucket, version)

    async def _pending(self, unfinished: UnfinishedItem) -> None:
        arrived = await self._object_exists(unfinished.original_key)
        match plan_pending(unfinished, self._clock(), self._settings, arrived=arrived):
            case "ingest":
                # The upload arrived but its notification did not: ingest it now.
                async with tenant_transaction(self._pool, unfinished.user_id) as connection:
                    item = await repository.mark_arrived(connection, unfinished.item_id)
                event = await self._next_event(item) if item is not None else None
                if event is not None:
                    await self._publisher.publish(event)
            case "fail_upload_missing":
                await self._fail(unfinished, "upload_missing", "the file was never uploaded")
            case "wait":
                pass

    async def _object_exists(self, key: str) -> bool:
        try:
            await self._s3.head_object(Bucket=self._settings.bucket, Key=key)
        except ClientError:
            return False
        except BotoCoreError as error:
            raise TransientError("storage_unavailable", str(error)) from error
        return True

    async def _fail(self, item: UnfinishedItem, code: str, message: str) -> None:
        log.warning("item_failed_by_reconciler", code=code)
        await fail_item(
            self._pool,
            self._publisher,
            user_id=item.user_id,
            item_id=item.item_id,
            stage="reconcile",
            error=PermanentError(code, message),
            correlation_id=item.correlation_id,
        )
