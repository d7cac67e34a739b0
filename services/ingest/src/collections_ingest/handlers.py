"""Ingest: an original in S3 → validated, oriented, stripped derivatives → ``ImageProcessed``.

Idempotent by construction: derivative keys are fixed per item, the row update only applies to an
item still waiting for ingest, and the published event id is derived from the item and its
generation. A redelivery after a crash between the commit and the publish finds the item
``processed`` and publishes the same event again.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec
from botocore.exceptions import BotoCoreError, ClientError

from collections_ingest import repository
from collections_ingest.imaging import ProcessedImage, process_image
from collections_ingest.messages import IngestWork, ObjectCreated
from collections_ingest.settings import Settings
from collections_shared.aws import read_object
from collections_shared.db import Pool, tenant_transaction
from collections_shared.domain.analysis import Provenance
from collections_shared.domain.analysis_input import InvalidAnalysisError, normalize_analysis
from collections_shared.domain.imports import read_envelope
from collections_shared.domain.item import ItemRecord
from collections_shared.domain.keys import derivative_key, derivative_prefix
from collections_shared.errors import PermanentError, TransientError
from collections_shared.events import (
    AnalysisComplete,
    ImageProcessed,
    ReprocessRequested,
    derived_event_id,
)
from collections_shared.logging import get_logger
from collections_shared.publisher import EventPublisher
from collections_shared.repository.analyses import insert_analysis
from collections_shared.repository.items import get_item
from collections_shared.repository.preferences import load_preferences
from collections_shared.worker import item_failer

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

log = get_logger(__name__)

# Failures that another attempt cannot fix; anything else at ingest may be retried by a redrive.
FINAL_CODES = frozenset(
    {
        "unsupported_type",
        "corrupt_image",
        "image_too_large",
        "empty_file",
        "file_too_large",
        "duplicate",
    }
)


class IngestHandler:
    def __init__(
        self, pool: Pool, s3: S3Client, publisher: EventPublisher, settings: Settings
    ) -> None:
        self._pool = pool
        self._s3 = s3
        self._publisher = publisher
        self._settings = settings
        self.fail = item_failer(pool, publisher, "ingest")

    async def dispatch(self, work: IngestWork) -> None:
        match work:
            case ObjectCreated(user_id=user_id, item_id=item_id, key=key):
                await self.ingest(user_id, item_id, key)
            case ReprocessRequested(user_id=user_id, item_id=item_id, original_key=key):
                await self.ingest(user_id, item_id, key)

    async def ingest(self, user_id: str, item_id: Any, key: str) -> None:
        async with tenant_transaction(self._pool, user_id) as connection:
            item = await get_item(connection, item_id)
        if item is None or item.original_key != key:
            log.info("ingest_skipped_unknown_object", key=key)
            return
        if item.status == "processed":
            await self._announce(item)  # the last attempt may have died before publishing
            return
        if not _waiting_for_ingest(item):
            log.info("ingest_skipped", status=item.status)
            return
        data = await self._download(key)
        processed = await self._process(data)
        async with tenant_transaction(self._pool, user_id) as connection:
            original = await repository.other_item_with_sha256(
                connection, item.id, processed.sha256
            )
            if original is not None:
                await repository.mark_duplicate(connection, item.id, original)
        if original is not None:
            await self._s3.delete_object(Bucket=self._settings.bucket, Key=key)
            log.info("ingest_duplicate", duplicate_of=str(original))
            return
        keys = await self._store_derivatives(item, processed)
        updated = await self._record(item, processed, keys, len(data))
        if updated is not None:
            await self._announce(updated)

    async def _download(self, key: str) -> bytes:
        return await read_object(
            self._s3,
            self._settings.bucket,
            key,
            missing_code="upload_missing",
            max_bytes=self._settings.max_bytes,
        )

    async def _process(self, data: bytes) -> ProcessedImage:
        """The image's facts and derivatives; a bad file raises `ImageRejected`, which is the
        `PermanentError` the worker fails the item with (its code and message as they are)."""
        return await asyncio.to_thread(
            process_image,
            data,
            max_pixels=self._settings.max_pixels,
            max_bytes=self._settings.max_bytes,
            # Read always; whether it is stored is the owner's preference at commit time.
            keep_gps=True,
        )

    async def _store_derivatives(
        self, item: ItemRecord, processed: ProcessedImage
    ) -> dict[str, str]:
        keys: dict[str, str] = {}
        try:
            for name, derivative in processed.derivatives.items():
                key = derivative_key(item.user_id, item.id, name)
                await self._s3.put_object(
                    Bucket=self._settings.bucket,
                    Key=key,
                    Body=derivative.data,
                    ContentType=derivative.content_type,
                    CacheControl="private, max-age=31536000, immutable",
                )
                keys[name] = key
        except (BotoCoreError, ClientError) as error:
            raise TransientError("storage_unavailable", f"S3 write failed: {error}") from error
        return keys

    async def _record(
        self, item: ItemRecord, processed: ProcessedImage, keys: dict[str, str], size: int
    ) -> ItemRecord | None:
        async with tenant_transaction(self._pool, item.user_id) as connection:
            preferences = await load_preferences(connection, item.user_id, lock=True)
            updated = await repository.record_processed(
                connection,
                item.id,
                processed=processed,
                derivative_keys=keys,
                size_bytes=size,
                keep_gps=preferences.keep_gps,
            )
            if updated is not None and updated.imported_analysis is not None:
                await self._store_import(connection, updated)
                updated = await get_item(connection, item.id)
        return updated

    async def _store_import(self, connection: Any, item: ItemRecord) -> None:
        """An analysis supplied on upload replaces the analyzer for this item."""
        try:
            data, source, original = read_envelope(item.imported_analysis)
            analysis = normalize_analysis(data)
        except (InvalidAnalysisError, msgspec.ValidationError) as error:
            raise PermanentError("invalid_analysis", str(error)) from error
        raw: dict[str, Any] = {}
        if source is not None:
            raw = {"source": msgspec.to_builtins(source), "original": original}
        await insert_analysis(
            connection,
            user_id=item.user_id,
            item_id=item.id,
            source_event_id=derived_event_id(item.id, "import", item.generation),
            analysis=analysis,
            provenance=Provenance(
                provider="import",
                model=(source.model if source else "") or "import",
                prompt_version="import",
                raw=raw,
                created_at=source.analysis_created_at if source else None,
            ),
        )
        await repository.mark_analyzed(connection, item.id)

    async def _announce(self, item: ItemRecord) -> None:
        if item.status == "analyzed" and item.latest_analysis_id is not None:
            async with tenant_transaction(self._pool, item.user_id) as connection:
                version = await repository.analysis_version(connection, item.latest_analysis_id)
            await self._publisher.publish(
                AnalysisComplete.build(
                    user_id=item.user_id,
                    item_id=item.id,
                    correlation_id=item.correlation_id,
                    analysis_id=item.latest_analysis_id,
                    version=version or 1,
                )
            )
            return
        await self._publisher.publish(ImageProcessed.build(item, bucket=self._settings.bucket))


def _waiting_for_ingest(item: ItemRecord) -> bool:
    if item.status in ("pending", "uploaded"):
        return True
    return (
        item.status == "failed"
        and item.failure_stage == "ingest"
        and item.failure_code not in FINAL_CODES
    )


__all__ = ["IngestHandler", "derivative_prefix"]
