"""Item rows and the status transitions every pipeline stage shares.

Statuses move ``pending → uploaded → processed → analyzed → searchable``, or to ``failed`` with
the stage, a machine-readable code and a message. Every write happens inside a tenant transaction
(:func:`collections_shared.db.tenant_transaction`), so row-level security applies too.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

import msgspec

from collections_shared.db import Connection, Pool, tenant_transaction
from collections_shared.errors import WorkerError
from collections_shared.events import FailureReason, ItemFailed, Stage, derived_event_id, utc_now
from collections_shared.publisher import EventPublisher

TERMINAL = ("searchable", "failed")
UNFINISHED = ("pending", "uploaded", "processed", "analyzed")


class ItemRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One row of ``items``."""

    id: uuid.UUID
    user_id: str
    status: str
    failure_stage: str | None
    failure_code: str | None
    failure_message: str | None
    filename: str
    declared_content_type: str
    size_bytes: int | None
    original_key: str
    mime_type: str | None
    width: int | None
    height: int | None
    sha256: str | None
    derivative_keys: dict[str, str]
    taken_at: datetime | None
    camera_make: str | None
    camera_model: str | None
    exif: dict[str, Any]
    gps_latitude: float | None
    gps_longitude: float | None
    duplicate_of: uuid.UUID | None
    imported_analysis: dict[str, Any] | None
    category: str | None
    latest_analysis_id: uuid.UUID | None
    correlation_id: str
    generation: int
    redrive_count: int
    idempotency_key: str | None
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime


ITEM_COLUMNS = ", ".join(ItemRecord.__struct_fields__)


def to_item(row: Any) -> ItemRecord:
    return ItemRecord(**dict(row))


async def get_item(connection: Connection, item_id: uuid.UUID) -> ItemRecord | None:
    """The item, if the transaction's tenant owns it."""
    row = await connection.fetchrow(f"SELECT {ITEM_COLUMNS} FROM items WHERE id = $1", item_id)
    return to_item(row) if row else None


async def set_status(
    connection: Connection, item_id: uuid.UUID, status: str, *, allowed_from: tuple[str, ...]
) -> bool:
    """Move to ``status`` if the item is in one of ``allowed_from``; False if it was not."""
    result: str = await connection.execute(
        """UPDATE items
              SET status = $2, failure_stage = NULL, failure_code = NULL, failure_message = NULL,
                  redrive_count = 0, updated_at = now(), status_changed_at = now()
            WHERE id = $1 AND status = ANY($3::text[])""",
        item_id,
        status,
        list(allowed_from),
    )
    return result != "UPDATE 0"


async def record_failure(
    connection: Connection, item_id: uuid.UUID, stage: Stage, code: str, message: str
) -> bool:
    """Mark the item ``failed``; False if it no longer exists."""
    result: str = await connection.execute(
        """UPDATE items
              SET status = 'failed', failure_stage = $2, failure_code = $3, failure_message = $4,
                  updated_at = now(), status_changed_at = now()
            WHERE id = $1""",
        item_id,
        stage,
        code,
        message[:1000],
    )
    return result != "UPDATE 0"


async def fail_item(
    pool: Pool,
    publisher: EventPublisher,
    *,
    user_id: str,
    item_id: uuid.UUID,
    stage: Stage,
    error: WorkerError,
    correlation_id: str = "",
) -> None:
    """Record a terminal failure and announce it with ``ItemFailed`` (once per failure)."""
    async with tenant_transaction(pool, user_id) as connection:
        found = await record_failure(connection, item_id, stage, error.code, error.message)
        generation = await connection.fetchval(
            "SELECT generation FROM items WHERE id = $1", item_id
        )
    if not found:
        return
    await publisher.publish(
        ItemFailed(
            event_id=derived_event_id(item_id, "ItemFailed", stage, error.code, generation),
            occurred_at=utc_now(),
            user_id=user_id,
            item_id=item_id,
            correlation_id=correlation_id,
            stage=stage,
            reason=FailureReason(code=error.code, message=error.message[:1000]),
        )
    )


class _Failable(Protocol):
    @property
    def user_id(self) -> str: ...
    @property
    def item_id(self) -> uuid.UUID: ...
    @property
    def correlation_id(self) -> str: ...


def item_failer(
    pool: Pool, publisher: EventPublisher, stage: Stage
) -> Callable[[_Failable, WorkerError], Awaitable[None]]:
    """The ``fail`` of a worker stage: mark the work's item failed with the error's reason."""

    async def fail(work: _Failable, error: WorkerError) -> None:
        await fail_item(
            pool,
            publisher,
            user_id=work.user_id,
            item_id=work.item_id,
            stage=stage,
            error=error,
            correlation_id=work.correlation_id,
        )

    return fail
