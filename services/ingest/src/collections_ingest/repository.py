"""SQL of the ingest worker and its reconciler (inside tenant transactions, but for the
reconciler's lock and its one cross-tenant read); rows come out as Structs."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from collections_shared.db import Connection
from collections_shared.domain.item import ItemRecord
from collections_shared.repository.items import ITEM_COLUMNS, to_item

# Statuses in which an item's original may be (re)processed.
INGESTIBLE = ("pending", "uploaded", "failed")


def _aware(moment: datetime | None) -> datetime | None:
    """EXIF times without an offset are stored as if UTC (documented; cameras rarely say)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


async def other_item_with_sha256(
    connection: Connection, item_id: uuid.UUID, sha256: str
) -> uuid.UUID | None:
    """The caller's live item with the same bytes, if it is not this one."""
    value: uuid.UUID | None = await connection.fetchval(
        """SELECT id FROM items
            WHERE sha256 = $1 AND id <> $2 AND duplicate_of IS NULL AND status <> 'failed'
            ORDER BY created_at LIMIT 1""",
        sha256,
        item_id,
    )
    return value


async def mark_duplicate(
    connection: Connection, item_id: uuid.UUID, original_id: uuid.UUID
) -> None:
    await connection.execute(
        """UPDATE items
              SET status = 'failed', failure_stage = 'ingest', failure_code = 'duplicate',
                  failure_message = 'the same image is already in the collection: item '
                                    || $2::text,
                  duplicate_of = $2, updated_at = now(), status_changed_at = now()
            WHERE id = $1""",
        item_id,
        original_id,
    )


async def record_processed(
    connection: Connection,
    item_id: uuid.UUID,
    *,
    processed: Any,
    derivative_keys: dict[str, str],
    size_bytes: int,
    keep_gps: bool,
) -> ItemRecord | None:
    """Store what ingest learned and move to ``processed``; None if the item moved on meanwhile."""
    exif = processed.exif
    facts = {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in dataclasses.asdict(exif).items()
        if value is not None and not key.startswith("gps")
    }
    row = await connection.fetchrow(
        f"""UPDATE items
               SET status = 'processed', failure_stage = NULL, failure_code = NULL,
                   failure_message = NULL, mime_type = $2, width = $3, height = $4, sha256 = $5,
                   derivative_keys = $6, taken_at = $7, camera_make = $8, camera_model = $9,
                   exif = $10, gps_latitude = $11, gps_longitude = $12, size_bytes = $13,
                   redrive_count = 0, updated_at = now(), status_changed_at = now()
             WHERE id = $1 AND status = ANY($14::text[])
         RETURNING {ITEM_COLUMNS}""",
        item_id,
        processed.mime_type,
        processed.width,
        processed.height,
        processed.sha256,
        derivative_keys,
        _aware(exif.taken_at),
        exif.camera_make,
        exif.camera_model,
        facts,
        exif.gps_latitude if keep_gps else None,
        exif.gps_longitude if keep_gps else None,
        size_bytes,
        list(INGESTIBLE),
    )
    return to_item(row) if row else None


async def mark_analyzed(connection: Connection, item_id: uuid.UUID) -> None:
    """The item's analysis came with the upload: it skips the analyzer."""
    await connection.execute(
        "UPDATE items SET status = 'analyzed', status_changed_at = now() WHERE id = $1", item_id
    )


async def analysis_version(connection: Connection, analysis_id: uuid.UUID) -> int | None:
    """The version number of one of the tenant's analyses."""
    version: int | None = await connection.fetchval(
        "SELECT version FROM analyses WHERE id = $1", analysis_id
    )
    return version


# --- the reconciler ------------------------------------------------------------------------------

_RECONCILER_LOCK = 0x636F6C6C7265636E  # "collrecn"


class UnfinishedItem(msgspec.Struct, frozen=True, kw_only=True):
    """An item of any tenant idle for a while in a status that is neither searchable nor failed."""

    user_id: str
    item_id: uuid.UUID
    status: str
    original_key: str
    correlation_id: str
    redrive_count: int
    status_changed_at: datetime


@asynccontextmanager
async def reconciler_lock(connection: Connection) -> AsyncIterator[bool]:
    """Whether this session is the one reconciler (a session-level advisory lock), held inside."""
    held: bool = await connection.fetchval("SELECT pg_try_advisory_lock($1)", _RECONCILER_LOCK)
    try:
        yield held
    finally:
        if held:
            await connection.execute("SELECT pg_advisory_unlock($1)", _RECONCILER_LOCK)


async def unfinished_items(
    connection: Connection, *, idle_for: timedelta, limit: int
) -> list[UnfinishedItem]:
    """Every tenant's items idle for ``idle_for``, longest idle first.

    The only cross-tenant read: a ``SECURITY DEFINER`` function that returns exactly these rows.
    """
    rows = await connection.fetch(
        "SELECT * FROM collections_unfinished_items($1, $2)", idle_for, limit
    )
    return [UnfinishedItem(**dict(row)) for row in rows]


async def count_redrive(connection: Connection, item_id: uuid.UUID) -> ItemRecord | None:
    """Note one more re-drive (which restarts the idle clock); the item as it is now."""
    row = await connection.fetchrow(
        f"""UPDATE items SET redrive_count = redrive_count + 1, status_changed_at = now()
             WHERE id = $1
         RETURNING {ITEM_COLUMNS}""",
        item_id,
    )
    return to_item(row) if row else None


async def mark_arrived(connection: Connection, item_id: uuid.UUID) -> ItemRecord | None:
    """A pending upload whose object is there after all becomes ``uploaded``; None if it had
    already moved on."""
    row = await connection.fetchrow(
        f"""UPDATE items SET status = 'uploaded', redrive_count = redrive_count + 1,
                  status_changed_at = now()
             WHERE id = $1 AND status = 'pending'
         RETURNING {ITEM_COLUMNS}""",
        item_id,
    )
    return to_item(row) if row else None


async def upload_traceparent(connection: Connection, item_id: uuid.UUID) -> str:
    """The trace context of the request that created the item ("" when none was recorded)."""
    value: str | None = await connection.fetchval(
        "SELECT traceparent FROM items WHERE id = $1", item_id
    )
    return value or ""
