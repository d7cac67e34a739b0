"""SQL for item rows and the status transitions every pipeline stage shares.

Every write happens inside a tenant transaction
(:func:`collections_shared.db.tenant_transaction`), so row-level security applies too.
"""

from __future__ import annotations

import uuid
from typing import Any

from collections_shared import metrics
from collections_shared.db import Connection, Pool
from collections_shared.domain.item import STATUSES, ItemRecord
from collections_shared.events import Stage

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
) -> int | None:
    """Mark the item ``failed``; its generation, or None if it no longer exists."""
    generation: int | None = await connection.fetchval(
        """UPDATE items
              SET status = 'failed', failure_stage = $2, failure_code = $3, failure_message = $4,
                  updated_at = now(), status_changed_at = now()
            WHERE id = $1
        RETURNING generation""",
        item_id,
        stage,
        code,
        message[:1000],
    )
    return generation


async def refresh_item_counts(pool: Pool) -> None:
    """Set ``collections_items`` from the counts per status over every tenant (counts only,
    through the ``SECURITY DEFINER`` function of migration 0006)."""
    async with pool.acquire(timeout=3) as connection:
        rows = await connection.fetch("SELECT status, items FROM collections_items_by_status()")
    counts = {row["status"]: row["items"] for row in rows}
    for status in {*STATUSES, *counts}:
        metrics.ITEMS.labels(status).set(counts.get(status, 0))
