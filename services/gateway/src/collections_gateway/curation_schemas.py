"""Request and response bodies of albums, favourites, the timeline, bulk actions and links."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

MAX_BATCH = 500
"""Ids one request may name (``POST /items/bulk``, ``POST/DELETE /albums/{id}/items``)."""

AlbumName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
AlbumDescription = Annotated[str, msgspec.Meta(max_length=2000)]
ItemIds = Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]
BulkAction = Literal[
    "delete", "favorite", "unfavorite", "analyze", "add_to_album", "remove_from_album"
]
DAY = 24 * 3600


class AlbumCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: AlbumName
    description: AlbumDescription = ""


class AlbumChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Fields left out stay as they are."""

    name: AlbumName | msgspec.UnsetType = msgspec.UNSET
    description: AlbumDescription | msgspec.UnsetType = msgspec.UNSET
    cover_item_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    """A member of the album; null goes back to the most recently added member."""


class Cover(msgspec.Struct, frozen=True):
    item_id: uuid.UUID
    thumbnail_url: str


class ShareState(msgspec.Struct, frozen=True):
    expires_at: datetime
    include_analysis: bool


class AlbumOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    name: str
    description: str
    item_count: int
    cover: Cover | None
    created_at: datetime
    updated_at: datetime
    share: ShareState | None
    """The album's live link, if it has one (its token is only shown when it is made)."""


class AlbumList(msgspec.Struct, frozen=True):
    albums: list[AlbumOut]


class ItemIdList(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    item_ids: ItemIds


class Outcome(msgspec.Struct, frozen=True, omit_defaults=True):
    """What happened to one id: ``done``, ``unchanged`` (already so) or ``failed`` (``code``)."""

    item_id: uuid.UUID
    status: Literal["done", "unchanged", "failed"]
    code: str | None = None
    """Why it failed: ``not_found``, ``not_processed``, ``llm_calls_quota_exceeded``..."""
    detail: str | None = None


def tally(outcomes: list[Outcome]) -> dict[str, int]:
    """``done``, ``unchanged`` and ``failed``: how many outcomes have each status."""
    return {
        status: sum(1 for outcome in outcomes if outcome.status == status)
        for status in ("done", "unchanged", "failed")
    }


class BatchResult(msgspec.Struct, frozen=True):
    results: list[Outcome]
    """One per distinct id, in the order sent."""
    done: int
    unchanged: int
    failed: int


class BulkRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    action: BulkAction
    item_ids: ItemIds
    album_id: uuid.UUID | None = None
    """Required by ``add_to_album`` and ``remove_from_album``."""


class BulkResult(BatchResult, frozen=True):
    action: BulkAction


class Month(msgspec.Struct, frozen=True):
    month: str
    """``YYYY-MM`` (UTC)."""
    count: int
    starts: datetime
    """Pass as ``from`` (and the next month's as ``to``) to list the month."""


class Timeline(msgspec.Struct, frozen=True):
    months: list[Month]
    """Newest first; months without items are left out."""
    total: int


class ShareRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    expires_in: Annotated[int, msgspec.Meta(ge=300, le=365 * DAY)] = 7 * DAY
    """Seconds until the link stops working (5 minutes to a year; a week by default)."""
    include_analysis: bool = False
    """Also show each photo's summary and tags; never EXIF, location or the original."""


class ShareOut(msgspec.Struct, frozen=True):
    """The link. Only a hash of the token is kept: it cannot be shown again, only replaced."""

    token: str
    url: str
    """The page that shows the album; anyone with it can see the album until it expires."""
    api_url: str
    """``GET`` it for the album as JSON (no login)."""
    expires_at: datetime
    include_analysis: bool


class SharedItem(msgspec.Struct, frozen=True, omit_defaults=True):
    id: uuid.UUID
    thumbnail_url: str
    preview_url: str
    width: int | None = None
    height: int | None = None
    summary: str | None = None
    """Only when the owner chose to include analyses."""
    tags: list[str] | None = None


class SharedAlbum(msgspec.Struct, frozen=True):
    name: str
    description: str
    item_count: int
    expires_at: datetime
    items: list[SharedItem]
    next_cursor: str | None
