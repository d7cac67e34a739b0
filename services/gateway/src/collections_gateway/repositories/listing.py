"""Pages of items (any sort, filter or album), the timeline's months, and favourites."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from collections_gateway.listing import ListQuery, Position
from collections_shared.db import Connection

MAX_MONTHS = 2400
"""Two centuries of months: more rows than a scrubber can show means bogus EXIF dates."""


class ItemListRow(msgspec.Struct, frozen=True, kw_only=True):
    """The columns a list entry shows (a page reads neither EXIF nor imported analyses)."""

    id: uuid.UUID
    status: str
    filename: str
    created_at: datetime
    updated_at: datetime
    category: str | None
    width: int | None
    height: int | None
    mime_type: str | None
    failure_stage: str | None
    failure_code: str | None
    failure_message: str | None
    derivative_keys: dict[str, str]
    duplicate_of: uuid.UUID | None
    taken_at: datetime | None
    favorite: bool
    sort_key: datetime


_COLUMNS = ", ".join(
    f"i.{name}" for name in ItemListRow.__struct_fields__ if name not in {"favorite", "sort_key"}
)


@dataclass
class _Params:
    values: list[Any] = field(default_factory=list)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


@dataclass(frozen=True)
class _Source:
    """Where rows come from and which expressions order them."""

    tables: str
    key: str
    item_id: str
    where: list[str]


def _source(user_id: str, query: ListQuery, params: _Params) -> _Source:
    user = params.add(user_id)
    if query.album_id is not None:
        # Membership rows carry the sort keys: one range scan of the album's index.
        return _Source(
            tables="album_items ai JOIN items i ON i.id = ai.item_id",
            key="ai.taken_key" if query.sort == "taken" else "ai.uploaded_key",
            item_id="ai.item_id",
            where=[
                f"ai.album_id = {params.add(query.album_id)}",
                f"ai.user_id = {user}",
                f"i.user_id = {user}",
            ],
        )
    return _Source(
        tables="items i",
        # Exactly the indexed expression (items_user_taken), or the planner cannot use it.
        key="coalesce(i.taken_at, i.created_at)" if query.sort == "taken" else "i.created_at",
        item_id="i.id",
        where=[f"i.user_id = {user}"],
    )


def _where(user_id: str, query: ListQuery, params: _Params) -> _Source:
    source = _source(user_id, query, params)
    clauses = source.where
    if query.status is not None:
        clauses.append(f"i.status = {params.add(query.status)}")
    if query.category is not None:
        clauses.append(f"i.category = {params.add(query.category)}")
    if query.favorite is not None:
        clauses.append(f"i.favorited_at IS {'NOT ' if query.favorite else ''}NULL")
    if query.since is not None:
        clauses.append(f"{source.key} >= {params.add(query.since)}::timestamptz")
    if query.until is not None:
        clauses.append(f"{source.key} < {params.add(query.until)}::timestamptz")
    return source


def page_query(
    user_id: str, query: ListQuery, *, after: Position | None, limit: int
) -> tuple[str, list[Any]]:
    """The SQL of one page and its parameters (``bench/items_scale.py`` explains it)."""
    params = _Params()
    source = _where(user_id, query, params)
    direction, past = ("DESC", "<") if query.order == "desc" else ("ASC", ">")
    if after is not None:
        source.where.append(
            f"({source.key}, {source.item_id}) {past} "
            f"({params.add(after.key)}::timestamptz, {params.add(after.item_id)}::uuid)"
        )
    sql = f"""SELECT {_COLUMNS}, i.favorited_at IS NOT NULL AS favorite, {source.key} AS sort_key
                FROM {source.tables}
               WHERE {" AND ".join(source.where)}
               ORDER BY {source.key} {direction}, {source.item_id} {direction}
               LIMIT {params.add(limit)}"""
    return sql, params.values


async def list_items(
    connection: Connection,
    user_id: str,
    query: ListQuery,
    *,
    after: Position | None,
    limit: int,
) -> list[ItemListRow]:
    """One page in the query's order, starting after ``after``."""
    sql, values = page_query(user_id, query, after=after, limit=limit)
    rows = await connection.fetch(sql, *values)
    return [ItemListRow(**dict(row)) for row in rows]


async def month_counts(
    connection: Connection, user_id: str, query: ListQuery
) -> list[tuple[datetime, int]]:
    """(first instant of the month in UTC, items) for every month with items, newest first."""
    params = _Params()
    source = _where(user_id, query, params)
    rows = await connection.fetch(
        f"""SELECT date_trunc('month', {source.key}, 'UTC') AS month, count(*) AS items
              FROM {source.tables}
             WHERE {" AND ".join(source.where)}
             GROUP BY 1
             ORDER BY 1 DESC
             LIMIT {MAX_MONTHS}""",
        *params.values,
    )
    return [(row["month"], row["items"]) for row in rows]


async def set_favorite(
    connection: Connection, user_id: str, item_id: uuid.UUID, *, favorite: bool
) -> bool | None:
    """Star or unstar; whether it was starred before, or None if the caller has no such item."""
    was: bool | None = await connection.fetchval(
        """WITH before AS (
               SELECT id, favorited_at FROM items WHERE id = $1 AND user_id = $2 FOR UPDATE
           )
           UPDATE items i
              SET favorited_at = CASE WHEN $3 THEN coalesce(before.favorited_at, now()) END
             FROM before
            WHERE i.id = before.id
        RETURNING before.favorited_at IS NOT NULL""",
        item_id,
        user_id,
        favorite,
    )
    return was


class Curation(msgspec.Struct, frozen=True):
    favorite: bool
    album_ids: list[uuid.UUID]


async def curation_of(connection: Connection, user_id: str, item_id: uuid.UUID) -> Curation | None:
    """Whether the item is a favourite and which of the caller's albums hold it."""
    row = await connection.fetchrow(
        """SELECT i.favorited_at IS NOT NULL AS favorite,
                  array(SELECT ai.album_id FROM album_items ai
                         WHERE ai.item_id = i.id AND ai.user_id = $2
                         ORDER BY ai.added_at, ai.album_id) AS album_ids
             FROM items i
            WHERE i.id = $1 AND i.user_id = $2""",
        item_id,
        user_id,
    )
    return Curation(favorite=row["favorite"], album_ids=list(row["album_ids"])) if row else None
