"""An item: one uploaded image and where it is in the pipeline.

Statuses move ``pending → uploaded → processed → analyzed → searchable``, or to ``failed`` with
the stage, a machine-readable code and a message.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

TERMINAL = ("searchable", "failed")
STATUSES = ("pending", "uploaded", "processed", "analyzed", *TERMINAL)

WAITING_FOR = {
    "pending": "upload",
    "uploaded": "ingest",
    "processed": "analyze",
    "analyzed": "embed",
}
"""The stage an unfinished item is waiting for (the ``stage`` names of ``ItemFailed``)."""


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
