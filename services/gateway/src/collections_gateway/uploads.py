"""Uploads: through the gateway (``POST /items``) or straight to S3 (a presigned POST).

Either way the item row exists before its bytes, and ingest takes over from the S3 event. The same
bytes (per user) or the same ``Idempotency-Key`` give back the item that already exists.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import msgspec

from collections_gateway import repository
from collections_gateway.presign import presigned_post
from collections_gateway.s3objects import S3Objects
from collections_gateway.schemas import PresignedUpload, UploadRequest
from collections_gateway.settings import Settings
from collections_shared import tracing
from collections_shared.db import Pool, tenant_transaction
from collections_shared.domain.filenames import sanitize_filename
from collections_shared.domain.imports import ImportedAnalysis, envelope
from collections_shared.domain.item import ItemRecord
from collections_shared.domain.keys import original_key
from collections_shared.domain.media import ALLOWED_TYPES, SNIFF_BYTES, detect_image_type
from collections_shared.errors import (
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)
from collections_shared.repository.items import get_item


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    declared_type: str
    idempotency_key: str | None
    imported: ImportedAnalysis | None
    correlation_id: str


def _kept_upload_time(imported: ImportedAnalysis | None) -> datetime | None:
    """A migrated item keeps the time it was added to the system it comes from."""
    return imported.source.item_created_at if imported and imported.source else None


class UploadsService:
    """Registers uploads and stores their originals, for one deployment."""

    def __init__(self, pool: Pool, s3: S3Objects, settings: Settings) -> None:
        self.pool = pool
        self.s3 = s3
        self.settings = settings

    async def upload(self, user_id: str, upload: Upload) -> ItemRecord:
        """Store the original and register the item; ingest takes it from the S3 event."""
        if not upload.data:
            raise ValidationFailedError("the file is empty", code="empty_file")
        if len(upload.data) > self.settings.max_upload_bytes:
            raise PayloadTooLargeError(
                f"the file exceeds {self.settings.max_upload_bytes} bytes", code="file_too_large"
            )
        image_type = detect_image_type(upload.data[:SNIFF_BYTES])
        if image_type is None:
            raise UnsupportedMediaTypeError(
                "not a JPEG, PNG, WebP, GIF or HEIC image", code="unsupported_type"
            )
        mime = image_type.mime_type
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
            imported_analysis=envelope(upload.imported) if upload.imported else None,
            created_at=_kept_upload_time(upload.imported),
            correlation_id=upload.correlation_id,
            traceparent=tracing.current_traceparent(),
        )
        item = msgspec.structs.replace(
            item, original_key=original_key(user_id, item.id, image_type.extension)
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
        async with tenant_transaction(self.pool, user_id) as connection:
            stored = await get_item(connection, item.id)
        if stored is None:  # deleted in the meantime
            raise NotFoundError("no such item")
        return stored

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
                    traceparent=tracing.current_traceparent(),
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
