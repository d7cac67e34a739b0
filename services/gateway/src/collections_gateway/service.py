"""The items domain: uploads, listing, details, deletion, re-analysis. No framework types here."""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from collections_gateway import repository
from collections_gateway.presign import presigned_post
from collections_gateway.s3objects import S3Objects
from collections_gateway.schemas import (
    AnalysisOut,
    ExifFacts,
    Failure,
    ItemDetail,
    ItemPage,
    ItemSummary,
    PresignedUpload,
    UploadRequest,
)
from collections_gateway.settings import Settings
from collections_shared.db import Pool, tenant_transaction
from collections_shared.domain.analysis import Analysis
from collections_shared.domain.filenames import sanitize_filename
from collections_shared.domain.item import ItemRecord
from collections_shared.domain.keys import original_key
from collections_shared.domain.media import ALLOWED_TYPES, sniff_image_type
from collections_shared.errors import (
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
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


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    declared_type: str
    idempotency_key: str | None
    imported: Analysis | None
    correlation_id: str


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

    def __init__(
        self, pool: Pool, s3: S3Objects, publisher: EventPublisher, settings: Settings
    ) -> None:
        self.pool = pool
        self.s3 = s3
        self.publisher = publisher
        self.settings = settings

    # --- uploads -----------------------------------------------------------------------------

    async def upload(self, user_id: str, upload: Upload) -> ItemRecord:
        """Store the original and register the item; ingest takes it from the S3 event."""
        if not upload.data:
            raise ValidationFailedError("the file is empty", code="empty_file")
        if len(upload.data) > self.settings.max_upload_bytes:
            raise PayloadTooLargeError(
                f"the file exceeds {self.settings.max_upload_bytes} bytes", code="file_too_large"
            )
        mime = sniff_image_type(upload.data[:32])
        if mime is None:
            raise UnsupportedMediaTypeError(
                "not a JPEG, PNG, WebP, GIF or HEIC image", code="unsupported_type"
            )
        sha256 = hashlib.sha256(upload.data).hexdigest()
        existing = await self._existing_upload(user_id, upload, sha256)
        if existing is not None:
            if existing.status == "uploaded":
                # A retry after a failed store: the row may exist without its bytes.
                await self._ensure_original(existing, upload.data, mime)
            return existing
        item = repository.NewItem(
            id=uuid.uuid4(),
            user_id=user_id,
            status="uploaded",
            filename=sanitize_filename(upload.filename),
            declared_content_type=upload.declared_type[:100],
            size_bytes=len(upload.data),
            original_key="",
            sha256=sha256,
            idempotency_key=upload.idempotency_key,
            imported_analysis=msgspec.to_builtins(upload.imported) if upload.imported else None,
            correlation_id=upload.correlation_id,
        )
        item = msgspec.structs.replace(
            item, original_key=original_key(user_id, item.id, ALLOWED_TYPES[mime])
        )
        try:
            async with tenant_transaction(self.pool, user_id) as connection:
                await repository.insert_item(connection, item)
        except asyncpg.UniqueViolationError:
            # A concurrent request with the same bytes or key won the race: answer with its item.
            raced = await self._existing_upload(user_id, upload, sha256)
            if raced is None:
                raise
            return raced
        await self._store_original(user_id, item, upload.data, mime)
        return await self._require(user_id, item.id)

    async def _ensure_original(self, item: ItemRecord, data: bytes, mime: str) -> None:
        if not await self.s3.exists(item.original_key):
            await self.s3.put(item.original_key, data, mime, correlation_id=item.correlation_id)

    async def _existing_upload(
        self, user_id: str, upload: Upload, sha256: str
    ) -> ItemRecord | None:
        async with tenant_transaction(self.pool, user_id) as connection:
            if upload.idempotency_key:
                earlier = await repository.find_by_idempotency_key(
                    connection, upload.idempotency_key
                )
                if earlier is not None:
                    if earlier.sha256 != sha256:
                        raise ConflictError(
                            "this Idempotency-Key was used for a different file",
                            code="idempotency_key_reused",
                        )
                    return earlier
            return await repository.find_active_by_sha256(connection, sha256)

    async def _store_original(
        self, user_id: str, item: repository.NewItem, data: bytes, mime: str
    ) -> None:
        try:
            await self.s3.put(item.original_key, data, mime, correlation_id=item.correlation_id)
        except Exception:
            async with tenant_transaction(self.pool, user_id) as connection:
                await repository.delete_item(connection, item.id)
            raise

    async def presign(
        self, user_id: str, request: UploadRequest, correlation_id: str
    ) -> PresignedUpload:
        """Register a pending item and let the browser POST the file straight to S3."""
        content_type = request.content_type.lower()
        if content_type not in ALLOWED_TYPES:
            raise UnsupportedMediaTypeError(
                f"content_type must be one of {', '.join(ALLOWED_TYPES)}", code="unsupported_type"
            )
        if request.size > self.settings.max_upload_bytes:
            raise PayloadTooLargeError(
                f"size exceeds {self.settings.max_upload_bytes} bytes", code="file_too_large"
            )
        item_id = uuid.uuid4()
        key = original_key(user_id, item_id, ALLOWED_TYPES[content_type])
        async with tenant_transaction(self.pool, user_id) as connection:
            await repository.insert_item(
                connection,
                repository.NewItem(
                    id=item_id,
                    user_id=user_id,
                    status="pending",
                    filename=sanitize_filename(request.filename),
                    declared_content_type=content_type,
                    size_bytes=request.size,
                    original_key=key,
                    sha256=None,
                    idempotency_key=None,
                    imported_analysis=None,
                    correlation_id=correlation_id,
                ),
            )
        post = await presigned_post(
            self.s3.signer,
            bucket=self.s3.bucket,
            user_id=user_id,
            key=key,
            content_type=content_type,
            max_bytes=self.settings.max_upload_bytes,
            expires_in=self.settings.presign_expiry_seconds,
            correlation_id=correlation_id,
        )
        return PresignedUpload(
            item_id=item_id,
            url=post["url"],
            fields=post["fields"],
            expires_in=self.settings.presign_expiry_seconds,
        )

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

    async def delete_everything(self, user_id: str) -> tuple[int, int]:
        """All of the caller's rows and objects; returns (items, objects) deleted."""
        async with tenant_transaction(self.pool, user_id) as connection:
            items = await repository.delete_all_items(connection)
            await repository.delete_preferences(connection, user_id)
        objects = await self.s3.delete_user_objects(user_id)
        return items, objects


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


def as_dict(value: Any) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(value)
    return result
