"""Request and response bodies of the public API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from collections_shared.domain.analysis import Analysis, ProviderFailure
from collections_shared.domain.imports import ImportSource

Email = Annotated[
    str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Status = Literal["pending", "uploaded", "processed", "analyzed", "searchable", "failed"]


class Credentials(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
    password: Password


class RefreshRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=8192)]


class ConfirmRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class Tokens(msgspec.Struct, frozen=True):
    access_token: str
    id_token: str
    refresh_token: str | None
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret


class SignupResult(msgspec.Struct, frozen=True):
    user_id: str
    confirmed: bool
    """False when the pool sends a confirmation code (``POST /auth/confirm``)."""


class Failure(msgspec.Struct, frozen=True):
    stage: str
    code: str
    message: str


class ExifFacts(msgspec.Struct, frozen=True, omit_defaults=True):
    taken_at: datetime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    gps_latitude: float | None = None
    gps_longitude: float | None = None


class AnalysisOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    version: int
    provider: str
    """``anthropic``, ``bedrock``, ``local``, ``import`` or ``user`` (edited by the owner)."""
    model: str
    prompt_version: str
    created_at: datetime
    analysis: Analysis
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: int | None = None
    fallback: list[ProviderFailure] = msgspec.field(default_factory=list)
    """Providers that failed before ``provider`` answered (a bad key, a missing model, an
    outage), in order; empty when the first provider of the chain answered."""
    user_fields: list[str] = msgspec.field(default_factory=list)
    """Fields the owner set; an automatic re-analysis keeps them unless asked to replace them."""
    restored_from: int | None = None
    """The version this one restored."""
    changed: list[str] = msgspec.field(default_factory=list)
    """In a version list: the fields that differ from the version before it."""
    source: ImportSource | None = None
    """For provider ``import``: the system it was migrated from, its ids, provider and model."""


class ItemSummary(msgspec.Struct, frozen=True):
    """An item in a list: enough to render a grid."""

    id: uuid.UUID
    status: Status
    filename: str
    created_at: datetime
    updated_at: datetime
    category: str | None = None
    width: int | None = None
    height: int | None = None
    mime_type: str | None = None
    failure: Failure | None = None
    thumbnail_url: str | None = None
    duplicate_of: uuid.UUID | None = None
    taken_at: datetime | None = None
    """EXIF date, if the photo has one (the timeline sorts by it, else by ``created_at``)."""
    favorite: bool = False


class ItemDetail(msgspec.Struct, frozen=True):
    """One item with its latest analysis and presigned URLs (valid for an hour)."""

    id: uuid.UUID
    status: Status
    filename: str
    created_at: datetime
    updated_at: datetime
    size_bytes: int | None
    mime_type: str | None
    width: int | None
    height: int | None
    sha256: str | None
    category: str | None
    failure: Failure | None
    duplicate_of: uuid.UUID | None
    exif: ExifFacts
    analysis: AnalysisOut | None
    thumbnail_url: str | None
    preview_url: str | None
    original_url: str | None
    favorite: bool = False
    album_ids: list[uuid.UUID] = msgspec.field(default_factory=list)
    """The caller's albums that hold the item."""


class ItemPage(msgspec.Struct, frozen=True):
    items: list[ItemSummary]
    next_cursor: str | None


class UploadRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    filename: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    content_type: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    size: Annotated[int, msgspec.Meta(ge=1)]


Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class LookupRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    sha256: Annotated[list[Sha256], msgspec.Meta(min_length=1, max_length=1000)]
    """Lowercase hex SHA-256 of whole files."""


class KnownItem(msgspec.Struct, frozen=True):
    sha256: str
    item_id: uuid.UUID
    status: Status


class LookupResult(msgspec.Struct, frozen=True):
    found: list[KnownItem]
    """The caller's items with these bytes; hashes not listed are not in the collection."""


class PresignedUpload(msgspec.Struct, frozen=True):
    """POST ``fields`` plus the file (last) as multipart/form-data to ``url``."""

    item_id: uuid.UUID
    url: str
    fields: dict[str, str]
    expires_in: int


class Accepted(msgspec.Struct, frozen=True):
    item_id: uuid.UUID
    status: Status
    message: str


class RebuildResult(msgspec.Struct, frozen=True):
    queued: int
    """Items whose latest analysis will be embedded again with the embedder's current model."""


class AnalysisList(msgspec.Struct, frozen=True):
    analyses: list[AnalysisOut]


class PreferencesOut(msgspec.Struct, frozen=True):
    keep_gps: bool
    """Whether GPS positions of uploaded photos are stored (never in derivatives). Default off."""
    items_with_location: int
    """How many of the caller's items have a stored GPS position."""


class PreferencesChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Fields left out stay as they are."""

    keep_gps: bool | None = None
    """Turning it off also removes every GPS position already stored; turning it on applies to
    photos ingested from then on (``POST /items/{id}/reprocess`` reads an older one again)."""


class DeletedAccount(msgspec.Struct, frozen=True):
    items: int
    objects: int
    chat_sessions: int
    albums: int = 0
    """Albums deleted with their links (their items are counted in ``items``)."""


class PipelineItem(msgspec.Struct, frozen=True, kw_only=True):
    """An item on its way (or stopped): where it is and since when."""

    id: uuid.UUID
    filename: str
    status: Status
    stage: str
    """The stage working on it (``upload``, ``ingest``, ``analyze``, ``embed``), or the one it
    failed at."""
    since: datetime
    """When it entered this status."""
    failure: Failure | None = None


class PipelineSummary(msgspec.Struct, frozen=True, kw_only=True):
    """``GET /items/summary``: the caller's items by status, what is in progress, what failed."""

    total: int
    by_status: dict[str, int]
    """Every status, with 0 for the ones no item is in."""
    in_progress: list[PipelineItem]
    """Items short of ``searchable``, longest waiting first (at most 50)."""
    failed: list[PipelineItem]
    """Failed items, most recent first (at most 50), each with its stage and reason."""
