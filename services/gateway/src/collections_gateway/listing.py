"""What a page of ``GET /items`` asks for, and its cursor. Pure: no I/O, no framework types.

Pages are keyset-paginated on (sort key, id): the cursor names the last row shown, so items
added or removed meanwhile never shift a page (none repeats, none is skipped that existed when
the first page was read). The sort key is ``coalesce(taken_at, created_at)`` for ``taken`` (EXIF
date, else upload time) and ``created_at`` for ``uploaded``. ``from``/``to`` bound the same key,
``from`` inclusive and ``to`` exclusive.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Literal

import msgspec

from collections_shared.errors import ValidationFailedError

Sort = Literal["taken", "uploaded"]
Order = Literal["asc", "desc"]


class ListQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Filters and order of a listing (also of the timeline, which ignores ``order``)."""

    sort: Sort = "uploaded"
    order: Order = "desc"
    status: str | None = None
    category: str | None = None
    album_id: uuid.UUID | None = None
    favorite: bool | None = None
    since: datetime | None = None
    """``from``: the sort key is at or after this."""
    until: datetime | None = None
    """``to``: the sort key is before this."""

    def __post_init__(self) -> None:
        if self.since and self.until and self.since >= self.until:
            raise ValidationFailedError("'from' must be before 'to'", code="bad_date_range")


def as_utc(moment: datetime | None) -> datetime | None:
    """A naive date-time from a query string is taken as UTC (the timeline's months are UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class Position(msgspec.Struct, frozen=True):
    """The last row of a page: where the next one starts."""

    key: datetime
    item_id: uuid.UUID


_PREFIX = {"taken": "t", "uploaded": "u"}


def encode_cursor(query: ListQuery, position: Position) -> str:
    raw = f"{_PREFIX[query.sort]}{query.order[0]}|{position.key.isoformat()}|{position.item_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(query: ListQuery, cursor: str) -> Position:
    """The position a cursor names; 422 if it is forged or was made for another sort order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, key, item_id = raw.split("|", 2)
        position = Position(datetime.fromisoformat(key), uuid.UUID(item_id))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailedError("cursor is not valid", code="bad_cursor") from error
    if kind != f"{_PREFIX[query.sort]}{query.order[0]}" or position.key.tzinfo is None:
        raise ValidationFailedError(
            "cursor belongs to another sort order; start again without it", code="bad_cursor"
        )
    return position
