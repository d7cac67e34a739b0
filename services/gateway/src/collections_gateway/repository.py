"""SQL of the gateway. Every function runs inside a tenant transaction (RLS applies)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from collections_shared.db import Connection
from collections_shared.domain.item import ItemRecord
from collections_shared.domain.preferences import Preferences
from collections_shared.repository.items import ITEM_COLUMNS, to_item


class NewItem(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    user_id: str
    status: str
    filename: str
    declared_content_type: str
    size_bytes: int | None
    original_key: str
    sha256: str | None
    idempotency_key: str | None
    imported_analysis: dict[str, Any] | None
    correlation_id: str
    created_at: datetime | None = None
    """None: now. An imported item keeps the time it was added to the system it comes from."""
    traceparent: str = ""
    """The creating request's trace context; ingest continues it (collections_shared.tracing)."""


async def insert_item(connection: Connection, item: NewItem) -> None:
    await connection.execute(
        """INSERT INTO items (id, user_id, status, filename, declared_content_type, size_bytes,
                              original_key, sha256, idempotency_key, imported_analysis,
                              correlation_id, traceparent, created_at, updated_at,
                              status_changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                   coalesce($13, now()), now(), now())""",
        item.id,
        item.user_id,
        item.status,
        item.filename,
        item.declared_content_type,
        item.size_bytes,
        item.original_key,
        item.sha256,
        item.idempotency_key,
        item.imported_analysis,
        item.correlation_id,
        item.traceparent,
        item.created_at,
    )


async def find_by_idempotency_key(connection: Connection, key: str) -> ItemRecord | None:
    row = await connection.fetchrow(
        f"SELECT {ITEM_COLUMNS} FROM items WHERE idempotency_key = $1", key
    )
    return to_item(row) if row else None


async def find_active_by_sha256(connection: Connection, sha256: str) -> ItemRecord | None:
    """The caller's live item with these bytes (a re-upload links to it)."""
    row = await connection.fetchrow(
        f"""SELECT {ITEM_COLUMNS} FROM items
             WHERE sha256 = $1 AND duplicate_of IS NULL AND status <> 'failed'
             LIMIT 1""",
        sha256,
    )
    return to_item(row) if row else None


class KnownUpload(msgspec.Struct, frozen=True):
    sha256: str
    item_id: uuid.UUID
    status: str


async def find_by_sha256s(connection: Connection, hashes: list[str]) -> list[KnownUpload]:
    """The caller's live items among ``hashes`` (the same rule as a re-upload's link)."""
    rows = await connection.fetch(
        """SELECT sha256, id, status FROM items
            WHERE sha256 = ANY($1::text[]) AND duplicate_of IS NULL AND status <> 'failed'""",
        hashes,
    )
    return [KnownUpload(row["sha256"], row["id"], row["status"]) for row in rows]


async def delete_item(connection: Connection, item_id: uuid.UUID) -> ItemRecord | None:
    """Delete the item (analyses and embeddings cascade); returns what was deleted."""
    row = await connection.fetchrow(
        f"DELETE FROM items WHERE id = $1 RETURNING {ITEM_COLUMNS}", item_id
    )
    return to_item(row) if row else None


async def delete_all_items(connection: Connection) -> int:
    result: str = await connection.execute("DELETE FROM items")
    return int(result.rsplit(" ", 1)[-1])


async def restart_ingest(connection: Connection, item_id: uuid.UUID) -> ItemRecord | None:
    """Send the item back to ``uploaded`` with a new generation (its events get new ids)."""
    row = await connection.fetchrow(
        f"""UPDATE items
               SET status = 'uploaded', generation = generation + 1, redrive_count = 0,
                   failure_stage = NULL, failure_code = NULL, failure_message = NULL,
                   duplicate_of = NULL, updated_at = now(), status_changed_at = now()
             WHERE id = $1 AND status <> 'pending'
         RETURNING {ITEM_COLUMNS}""",
        item_id,
    )
    return to_item(row) if row else None


async def analyzed_items(connection: Connection) -> list[tuple[uuid.UUID, uuid.UUID, int, str]]:
    """(item, latest analysis, version, correlation id) of every item with an analysis."""
    rows = await connection.fetch(
        """SELECT i.id, a.id AS analysis_id, a.version, i.correlation_id
             FROM items i JOIN analyses a ON a.id = i.latest_analysis_id
            ORDER BY i.created_at"""
    )
    return [(row["id"], row["analysis_id"], row["version"], row["correlation_id"]) for row in rows]


async def save_preferences(
    connection: Connection, user_id: str, *, keep_gps: bool | None
) -> Preferences:
    """Create or change the caller's preferences (``None`` leaves one as it is); the result."""
    kept: bool = await connection.fetchval(
        """INSERT INTO preferences (user_id, keep_gps) VALUES ($1, coalesce($2, false))
           ON CONFLICT (user_id) DO UPDATE
              SET keep_gps = coalesce($2, preferences.keep_gps), updated_at = now()
           RETURNING keep_gps""",
        user_id,
        keep_gps,
    )
    return Preferences(keep_gps=kept)


async def forget_locations(connection: Connection, user_id: str) -> int:
    """Remove every stored GPS position of the caller's items; returns how many had one."""
    result: str = await connection.execute(
        """UPDATE items SET gps_latitude = NULL, gps_longitude = NULL, updated_at = now()
            WHERE user_id = $1 AND gps_latitude IS NOT NULL""",
        user_id,
    )
    return int(result.rsplit(" ", 1)[-1])


async def count_located_items(connection: Connection, user_id: str) -> int:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM items WHERE user_id = $1 AND gps_latitude IS NOT NULL", user_id
    )
    return count


async def delete_preferences(connection: Connection, user_id: str) -> None:
    await connection.execute("DELETE FROM preferences WHERE user_id = $1", user_id)


class PipelineRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    filename: str
    status: str
    status_changed_at: datetime
    failure_stage: str | None
    failure_code: str | None
    failure_message: str | None


_PIPELINE_COLUMNS = ", ".join(PipelineRow.__struct_fields__)


async def count_by_status(connection: Connection, user_id: str) -> dict[str, int]:
    rows = await connection.fetch(
        "SELECT status, count(*) AS n FROM items WHERE user_id = $1 GROUP BY status", user_id
    )
    return {row["status"]: row["n"] for row in rows}


async def unfinished_items(connection: Connection, user_id: str, limit: int) -> list[PipelineRow]:
    """Items not yet searchable nor failed, the longest waiting first."""
    rows = await connection.fetch(
        f"""SELECT {_PIPELINE_COLUMNS} FROM items
             WHERE user_id = $1 AND status NOT IN ('searchable', 'failed')
             ORDER BY status_changed_at, id LIMIT $2""",
        user_id,
        limit,
    )
    return [PipelineRow(**dict(row)) for row in rows]


async def failed_items(connection: Connection, user_id: str, limit: int) -> list[PipelineRow]:
    """Failed items, the most recent failure first."""
    rows = await connection.fetch(
        f"""SELECT {_PIPELINE_COLUMNS} FROM items
             WHERE user_id = $1 AND status = 'failed'
             ORDER BY status_changed_at DESC, id DESC LIMIT $2""",
        user_id,
        limit,
    )
    return [PipelineRow(**dict(row)) for row in rows]
