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
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
from botocore.exceptions import BotoCoreError, ClientError

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
from collections_shared.repository.items import get_item
from collections_shared.worker import fail_item

log = get_logger(__name__)

_LOCK_KEY = 0x636F6C6C7265636E  # "collrecn"
_BATCH = 200


class Reconciler:
    def __init__(self, pool: Pool, s3: Any, publisher: EventPublisher, settings: Settings) -> None:
        self._pool = pool
        self._s3 = s3
        self._publisher = publisher
        self._settings = settings
        self.redriven = 0

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
        async with self._pool.acquire() as connection:
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_KEY):
                return 0
            try:
                rows = await connection.fetch(
                    "SELECT * FROM collections_unfinished_items($1, $2)",
                    timedelta(seconds=self._settings.stuck_after_seconds),
                    _BATCH,
                )
                due = [dict(row) for row in rows if self._due(row)]
                for row in due:
                    await self._redrive(row)
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
        return len(due)

    def _due(self, row: Any) -> bool:
        """Idle for ``stuck_after`` x 2^(re-drives so far); pending uploads: every pass."""
        if row["status"] == "pending":
            return True
        idle: float = (utc_now() - row["status_changed_at"]).total_seconds()
        wait: int = self._settings.stuck_after_seconds * 2 ** int(row["redrive_count"])
        return idle >= wait

    async def _redrive(self, row: dict[str, Any]) -> None:
        user_id: str = row["user_id"]
        item_id: uuid.UUID = row["item_id"]
        bind_unit_of_work(
            user_id=user_id, item_id=str(item_id), correlation_id=row["correlation_id"]
        )
        if row["redrive_count"] >= self._settings.max_redrives:
            await self._fail(user_id, item_id, "stuck", "the item stopped making progress", row)
            return
        if row["status"] == "pending":
            await self._pending(row)
            return
        async with tenant_transaction(self._pool, user_id) as connection:
            await connection.execute(
                """UPDATE items SET redrive_count = redrive_count + 1, status_changed_at = now()
                    WHERE id = $1""",
                item_id,
            )
            item = await get_item(connection, item_id)
        if item is None:
            return
        event = await self._next_event(item)
        if event is not None:
            log.info("item_redriven", status=item.status, redrive=item.redrive_count)
            self.redriven += 1
            await self._publisher.publish(event)

    async def _next_event(self, item: ItemRecord) -> Event | None:
        """The event the item's next stage waits for."""
        if item.status == "uploaded":
            return ReprocessRequested.build(item)
        if item.status == "processed":
            return ImageProcessed.build(item, bucket=self._settings.bucket)
        if item.status == "analyzed" and item.latest_analysis_id is not None:
            async with tenant_transaction(self._pool, item.user_id) as connection:
                version = await connection.fetchval(
                    "SELECT version FROM analyses WHERE id = $1", item.latest_analysis_id
                )
            return AnalysisComplete.build(
                user_id=item.user_id,
                item_id=item.id,
                correlation_id=item.correlation_id,
                analysis_id=item.latest_analysis_id,
                version=version or 1,
            )
        return None

    async def _pending(self, row: dict[str, Any]) -> None:
        """A presigned upload: ingest it if the object exists, fail it once the URL is long dead."""
        age = (utc_now() - row["status_changed_at"]).total_seconds()
        exists = await self._object_exists(row["original_key"])
        if exists:
            # The upload arrived but its notification did not: ingest it now.
            async with tenant_transaction(self._pool, row["user_id"]) as connection:
                await connection.execute(
                    """UPDATE items SET status = 'uploaded', redrive_count = redrive_count + 1,
                              status_changed_at = now()
                        WHERE id = $1 AND status = 'pending'""",
                    row["item_id"],
                )
                item = await get_item(connection, row["item_id"])
            event = await self._next_event(item) if item is not None else None
            if event is not None:
                await self._publisher.publish(event)
            return
        if age > self._settings.upload_grace_seconds:
            await self._fail(
                row["user_id"], row["item_id"], "upload_missing", "the file was never uploaded", row
            )

    async def _object_exists(self, key: str) -> bool:
        try:
            await self._s3.head_object(Bucket=self._settings.bucket, Key=key)
        except ClientError:
            return False
        except BotoCoreError as error:
            raise TransientError("storage_unavailable", str(error)) from error
        return True

    async def _fail(
        self, user_id: str, item_id: uuid.UUID, code: str, message: str, row: dict[str, Any]
    ) -> None:
        log.warning("item_failed_by_reconciler", code=code)
        await fail_item(
            self._pool,
            self._publisher,
            user_id=user_id,
            item_id=item_id,
            stage="reconcile",
            error=PermanentError(code, message),
            correlation_id=row["correlation_id"],
        )
