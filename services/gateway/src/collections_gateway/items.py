"""Items once uploaded: listing, details, deletion, re-analysis, reprocessing, re-indexing.

No framework types here; uploads are :mod:`collections_gateway.uploads`.
"""

from __future__ import annotations

import uuid

import msgspec

from collections_gateway import repository
from collections_gateway.analyses import analysis_out
from collections_gateway.curation_schemas import Month, Timeline
from collections_gateway.listing import ListQuery, Position, decode_cursor, encode_cursor
from collections_gateway.pipeline import pipeline_summary
from collections_gateway.repositories import albums as album_sql
from collections_gateway.repositories import listing
from collections_gateway.repositories.listing import ItemListRow
from collections_gateway.s3objects import S3Objects
from collections_gateway.schemas import (
    ExifFacts,
    Failure,
    ItemDetail,
    ItemPage,
    ItemSummary,
    KnownItem,
    LookupResult,
    PipelineSummary,
)
from collections_shared.db import Pool, tenant_transaction
from collections_shared.domain.item import ItemRecord
from collections_shared.errors import ConflictError, NotFoundError
from collections_shared.events import AnalysisRequested, ReindexRequested, ReprocessRequested
from collections_shared.publisher import EventPublisher
from collections_shared.repository.analyses import AnalysisVersion, latest_version
from collections_shared.repository.items import get_item


def _failure(item: ItemRecord | ItemListRow) -> Failure | None:
    if item.status != "failed" or not item.failure_code:
        return None
    return Failure(
        stage=item.failure_stage or "", code=item.failure_code, message=item.failure_message or ""
    )


class ItemsService:
    """Everything the items routes do, for one deployment."""

    def __init__(self, pool: Pool, s3: S3Objects, publisher: EventPublisher) -> None:
        self.pool = pool
        self.s3 = s3
        self.publisher = publisher

    # --- reading -------------------------------------------------------------------------------

    async def summary(self, item: ItemListRow) -> ItemSummary:
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
            taken_at=item.taken_at,
            favorite=item.favorite,
        )

    async def list_items(
        self, user_id: str, query: ListQuery, *, limit: int, cursor: str | None
    ) -> ItemPage:
        """One page in the query's order; ``next_cursor`` is None on the last page.

        An ``album_id`` that is not one of the caller's albums is a 404, like anywhere else.
        """
        after = decode_cursor(query, cursor) if cursor else None
        async with tenant_transaction(self.pool, user_id) as connection:
            if query.album_id is not None and not await album_sql.album_exists(
                connection, user_id, query.album_id
            ):
                raise NotFoundError("no such album")
            rows = await listing.list_items(
                connection, user_id, query, after=after, limit=limit + 1
            )
        page = rows[:limit]
        next_cursor = (
            encode_cursor(query, Position(page[-1].sort_key, page[-1].id))
            if len(rows) > limit
            else None
        )
        return ItemPage(items=[await self.summary(item) for item in page], next_cursor=next_cursor)

    async def pipeline(self, user_id: str) -> PipelineSummary:
        """Counts per status, the items in progress and the failed ones (``GET /items/summary``)."""
        return await pipeline_summary(self.pool, user_id)

    async def timeline(self, user_id: str, query: ListQuery) -> Timeline:
        """Items per month (UTC) of the query's sort key, for a date scrubber."""
        async with tenant_transaction(self.pool, user_id) as connection:
            if query.album_id is not None and not await album_sql.album_exists(
                connection, user_id, query.album_id
            ):
                raise NotFoundError("no such album")
            counts = await listing.month_counts(connection, user_id, query)
        months = [
            Month(month=f"{start.year:04d}-{start.month:02d}", count=count, starts=start)
            for start, count in counts
        ]
        return Timeline(months=months, total=sum(month.count for month in months))

    async def lookup(self, user_id: str, hashes: list[str]) -> LookupResult:
        """Which of these file hashes the caller already has (clients skip those uploads)."""
        async with tenant_transaction(self.pool, user_id) as connection:
            rows = await repository.find_by_sha256s(connection, sorted(set(hashes)))
        found = [
            KnownItem(sha256=row.sha256, item_id=row.item_id, status=row.status)  # type: ignore[arg-type]
            for row in rows
        ]
        return LookupResult(found=found)

    async def detail(self, user_id: str, item_id: uuid.UUID) -> ItemDetail:
        async with tenant_transaction(self.pool, user_id) as connection:
            item = await get_item(connection, item_id)
            analysis = await latest_version(connection, item_id) if item else None
            curation = await listing.curation_of(connection, user_id, item_id) if item else None
        if item is None or curation is None:
            raise NotFoundError("no such item")
        detail = await self._detail(item, analysis)
        return msgspec.structs.replace(
            detail, favorite=curation.favorite, album_ids=curation.album_ids
        )

    async def _detail(self, item: ItemRecord, analysis: AnalysisVersion | None) -> ItemDetail:
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
            analysis=analysis_out(analysis) if analysis else None,
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

    # --- changes -------------------------------------------------------------------------------

    async def set_favorite(self, user_id: str, item_id: uuid.UUID, *, favorite: bool) -> bool:
        """Star or unstar an item; True if that changed anything. Idempotent."""
        async with tenant_transaction(self.pool, user_id) as connection:
            was = await listing.set_favorite(connection, user_id, item_id, favorite=favorite)
        if was is None:
            raise NotFoundError("no such item")
        return was != favorite

    async def delete(self, user_id: str, item_id: uuid.UUID) -> None:
        async with tenant_transaction(self.pool, user_id) as connection:
            item = await repository.delete_item(connection, item_id)
        if item is None:
            raise NotFoundError("no such item")
        await self.s3.delete_item_objects(user_id, item.id, item.original_key)

    async def analyze(
        self,
        user_id: str,
        item_id: uuid.UUID,
        idempotency_key: str | None = None,
        *,
        replace_user_fields: bool = False,
    ) -> ItemRecord:
        """Ask for a new analysis version of an item whose derivatives exist.

        The request's id comes from the key, or without one from the version it would create, so
        a retry (with the key, or before the analyzer ran) asks for the same version again. The
        new version keeps the fields the owner edited unless ``replace_user_fields``. This is
        the per-item call a bulk re-analysis makes for each of its items.
        """
        async with tenant_transaction(self.pool, user_id) as connection:
            item = await get_item(connection, item_id)
            latest = await latest_version(connection, item_id) if item else None
        if item is None:
            raise NotFoundError("no such item")
        if "preview" not in item.derivative_keys or item.mime_type is None or not item.sha256:
            raise ConflictError("the item has not been processed yet", code="not_processed")
        await self.publisher.publish(
            AnalysisRequested.build(
                user_id=user_id,
                item_id=item.id,
                correlation_id=item.correlation_id,
                idempotency_key=idempotency_key,
                next_version=(latest.version if latest else 0) + 1,
                replace_user_fields=replace_user_fields,
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
        await self.publisher.publish(ReprocessRequested.build(item))
        return item

    async def rebuild_index(self, user_id: str) -> int:
        """Ask the embedder to index each analyzed item's latest analysis with its current model."""
        async with tenant_transaction(self.pool, user_id) as connection:
            rows = await repository.analyzed_items(connection)
        events = [
            ReindexRequested.build(
                user_id=user_id,
                item_id=item_id,
                correlation_id=correlation_id,
                analysis_id=analysis_id,
            )
            for item_id, analysis_id, _version, correlation_id in rows
        ]
        await self.publisher.publish(*events)
        return len(events)
