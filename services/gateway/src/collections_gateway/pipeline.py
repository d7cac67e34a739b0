"""The caller's pipeline at a glance: counts per status, what is in progress, what failed.

Backs ``GET /items/summary`` and the web UI's status view (which follows changes over
``/events`` and retries failed items with ``POST /items/{id}/reprocess``). No framework types.
"""

from __future__ import annotations

from collections_gateway import repository
from collections_gateway.schemas import Failure, PipelineItem, PipelineSummary
from collections_shared.db import Pool, tenant_transaction
from collections_shared.domain.item import STATUSES, WAITING_FOR

LISTED = 50
"""At most this many in-progress and failed items each (the counts are always complete)."""


def _entry(row: repository.PipelineRow) -> PipelineItem:
    failure = None
    if row.status == "failed":
        failure = Failure(
            stage=row.failure_stage or "",
            code=row.failure_code or "",
            message=row.failure_message or "",
        )
    return PipelineItem(
        id=row.id,
        filename=row.filename,
        status=row.status,  # type: ignore[arg-type]
        stage=failure.stage if failure else WAITING_FOR.get(row.status, ""),
        since=row.status_changed_at,
        failure=failure,
    )


async def pipeline_summary(pool: Pool, user_id: str) -> PipelineSummary:
    async with tenant_transaction(pool, user_id) as connection:
        counts = await repository.count_by_status(connection, user_id)
        unfinished = await repository.unfinished_items(connection, user_id, LISTED)
        failed = await repository.failed_items(connection, user_id, LISTED)
    return PipelineSummary(
        total=sum(counts.values()),
        by_status={status: counts.get(status, 0) for status in STATUSES},
        in_progress=[_entry(row) for row in unfinished],
        failed=[_entry(row) for row in failed],
    )
