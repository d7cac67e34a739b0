"""Items once uploaded: listing, details, deletion, re-analysis, reprocessing, re-indexing.

No framework types here; uploads are :mod:`collections_gateway.uploads`.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from collections_gateway import repository
from collections_gateway.pipeline import pipeline_summary
from collections_gateway.s3objects import S3Objects
from collections_gateway.schemas import (
    AnalysisOut,
    ExifFacts,
    Failure,
    ItemDetail,
    ItemPage,
    ItemSummary,
    PipelineSummary,
)
from collections_shared.db import Pool, tenant_transaction
from collections_shared.domain.item import ItemRecord
from collections_shared.errors import (
    ConflictError,
    NotFoundError,
    ValidationFailedError,
)
from collections_shared.events import (
    AnalysisComplete,
    ImageProcessed,
    ReprocessRequested,
    derived_event_id,
    utc_now,
)
from collections_shared.publisher import EventPublisher
from collections_shared.repository.items import get_item


def _failure(item: ItemRecord | repository.ItemListRow) -> Failure | None:
    if item.status != "failed" or not item.failure_code:
        return None
    return Failure(
        stage=item.failure_stage or "", code=item.failure_code, message=item.failure_message or ""
    )


def encode_cursor(item: repository.ItemListRow) -> str:
    raw = f"{item.created_at.isoformat()}|{item.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, item_id = raw.split("|", 1)
        return datetime.fromisoformat(created), uuid.UUID(item_id)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailedError("cursor is not valid", code="bad_cursor") from error


class ItemsService:
    """Everything the items routes do, for one deployment."""

    def __init__(self, pool: Pool, s3: S3Objects, publisher: EventPublisher) -> None:
        self.pool = pool
        self.s3 = s3
        self.publisher = publisher

    # --- reading -------------------------------------------------------------------------------

    async def _require(self, user_id: str, item_id: uuid.UUID) -> ItemRecord:
        async with tenant_transaction(self.pool, user_id) as connection:
            item = await get_item(connection, item_id)
        if item is None:
            raise NotFoundError("no such item")
        return item

    async def summary(self, item: repository.ItemListRow) -> ItemSummary:
        thumbnail = item.derivative_keys.get("thumbnail")
        return ItemSummary(
            id=item.id,
            status=item.status,  # type: ignore[arg-type]
            filename=item.filename,
            created_at=item.created_at,
            updated_at=item.updated_at,
            category=item.category,
            width=item.width,
            height=item.height,
            mime_type=item.mime_type,
            failure=_failure(item),
            thumbnail_url=await self.s3.url(thumbnail, "image/webp") if thumbnail else None,
            duplicate_of=item.duplicate_of,
        )

    async def list_items(
        self,
        user_id: str,
        *,
        limit: int,
        cursor: str | None,
        status: str | None,
        category: str | None,
    ) -> ItemPage:
        after = decode_cursor(cursor) if cursor else None
        async with tenant_transaction(self.pool, user_id) as connection:
            rows = await repository.list_items(
                connection, limit=limit + 1, after=after, status=status, category=category
            )
        page = rows[:limit]
        next_cursor = encode_cursor(page[-1]) if len(rows) > limit else None
        return ItemPage(items=[await self.summary(item) for item in page], next_cursor=next_cursor)

    async def pipeline(self, user_id: str) -> PipelineSummary:
        """Counts per status, the items in progress and the failed ones (``GET /items/summary``)."""
        return await pipeline_summary(self.pool, user_id)

    async def detail(self, user_id: str, item_id: uuid.UUID) -> ItemDetail:
        async with tenant_transaction(self.pool, user_id) as connection:
            item = await get_item(connection, item_id)
            analysis = await repository.latest_analysis(connection, item_id) if item else None
        if item is None:
            raise NotFoundError("no such item")
        return await self._detail(item, analysis)

    async def _detail(
        self, item: ItemRecord, analysis: repository.AnalysisRow | None
    ) -> ItemDetail:
        keys = item.derivative_keys
        validated = item.mime_type is not None
        return ItemDetail(
            id=item.id,
            status=item.status,  # type: ignore[arg-type]
            filename=item.filename,
            created_at=item.created_at,
            updated_at=item.updated_at,
            size_bytes=item.size_bytes,
            mime_type=item.mime_type,
            width=item.width,
            height=item.height,
            sha256=item.sha256,
            category=item.category,
            failure=_failure(item),
            duplicate_of=item.duplicate_of,
            exif=ExifFacts(
                taken_at=item.taken_at,
                camera_make=item.camera_make,
                camera_model=item.camera_model,
                gps_latitude=item.gps_latitude,
                gps_longitude=item.gps_longitude,
            ),
            analysis=_analysis_out(analysis) if analysis else None,
            thumbnail_url=await self.s3.url(keys["thumbnail"], "image/webp")
            if "thumbnail" in keys
            else None,
            preview_url=await self.s3.url(keys["preview"], "image/jpeg")
            if "preview" in keys
            else None,
            original_url=await self.s3.url(
                item.original_key,
                item.mime_type or "application/octet-stream",
                download=item.filename,
            )
            if validated
            else None,
        )

    async def analyses(self, user_id: str, item_id: uuid.UUID) -> list[AnalysisOut]:
        async with tenant_transaction(self.pool, user_id) as connection:
            item = await get_item(connection, item_id)
            rows = await repository.list_analyses(connection, item_id) if item else []
        if item is None:
            raise NotFoundError("no such item")
        return [_analysis_out(row) for row in rows]

    # --- changes -------------------------------------------------------------------------------

    async def delete(self, user_id: str, item_id: uuid.UUID) -> None:
        async with tenant_transaction(self.pool, user_id) as connection:
            item = await repository.delete_item(connection, item_id)
        if item is None:
            raise NotFoundError("no such item")
        await self.s3.delete_item_objects(user_id, item.id, item.original_key)

    async def analyze(self, user_id: str, item_id: uuid.UUID) -> ItemRecord:
        """Ask for a new analysis version of an item whose derivatives exist."""
        item = await self._require(user_id, item_id)
        if "preview" not in item.derivative_keys or item.mime_type is None or not item.sha256:
            raise ConflictError("the item has not been processed yet", code="not_processed")
        await self.publisher.publish(
            ImageProcessed(
                event_id=uuid.uuid4(),
                occurred_at=utc_now(),
                user_id=user_id,
                item_id=item.id,
                correlation_id=item.correlation_id,
                bucket=self.s3.bucket,
                original_key=item.original_key,
                derivative_keys=item.derivative_keys,
                width=item.width or 1,
                height=item.height or 1,
                mime_type=item.mime_type,
                sha256=item.sha256,
                force=True,
            )
        )
        return item

    async def reprocess(self, user_id: str, item_id: uuid.UUID) -> ItemRecord:
        """Run the whole pipeline again from the original."""
        async with tenant_transaction(self.pool, user_id) as connection:
            item = await repository.restart_ingest(connection, item_id)
            exists = item is not None or await get_item(connection, item_id) is not None
        if not exists:
            raise NotFoundError("no such item")
        if item is None:
            raise ConflictError("the item is still waiting for its upload", code="not_uploaded")
        await self.publisher.publish(
            ReprocessRequested(
                event_id=derived_event_id(item.id, "ReprocessRequested", item.generation),
                occurred_at=utc_now(),
                user_id=user_id,
                item_id=item.id,
                correlation_id=item.correlation_id,
                original_key=item.original_key,
            )
        )
        return item

    async def rebuild_index(self, user_id: str) -> int:
        """Re-embed every analyzed item with the embedder's current model."""
        async with tenant_transaction(self.pool, user_id) as connection:
            rows = await repository.analyzed_items(connection)
        events = [
            AnalysisComplete(
                event_id=uuid.uuid4(),
                occurred_at=utc_now(),
                user_id=user_id,
                item_id=item_id,
                correlation_id=correlation_id,
                analysis_id=analysis_id,
                version=version,
            )
            for item_id, analysis_id, version, correlation_id in rows
        ]
        await self.publisher.publish(*events)
        return len(events)


def _analysis_out(row: repository.AnalysisRow) -> AnalysisOut:
    return AnalysisOut(
        id=row.id,
        version=row.version,
        provider=row.provider,
        model=row.model,
        prompt_version=row.prompt_version,
        created_at=row.created_at,
        analysis=row.analysis,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        latency_ms=row.latency_ms,
    )
