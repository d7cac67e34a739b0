"""SQL of the search service. Every query filters by the caller (and RLS checks it again)."""

from __future__ import annotations

import uuid
from typing import Any

from collections_search import bm25
from collections_search.schemas import Filters
from collections_shared.db import Connection, Pool, tenant_transaction
from collections_shared.domain.analysis import OFFLINE_PROVIDER

# Dimensions with an HNSW expression index (migration 0001); others fall back to an exact scan.
INDEXED_DIMENSIONS = frozenset({384, 1024})
INDEX_VISIT_COST = 3
"""A vector visited in the HNSW graph (its neighbours' distances, page hops) against one read by
an exact scan: about 15 µs and 5 µs, from ``python -m bench search_scale`` (docs/search.md)."""
_DEFAULT_BM25 = bm25.Bm25()
_NO_FILTERS = Filters()


class _Params:
    """Numbered SQL parameters, so fragments can be composed without string-formatting values."""

    def __init__(self, *initial: Any) -> None:
        self.values: list[Any] = list(initial)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def _filter_sql(user_id: str, filters: Filters, params: _Params) -> str:
    clauses = [f"i.user_id = {params.add(user_id)}"]
    categories = [*(filters.categories or []), *([filters.category] if filters.category else [])]
    if categories:
        clauses.append(f"i.category = ANY({params.add(categories)}::text[])")
    if filters.tags:
        clauses.append(
            f"(a.tags || a.objects) @> {params.add([t.lower() for t in filters.tags])}::text[]"
        )
    when = "coalesce(i.taken_at, i.created_at)"
    if filters.taken_after:
        clauses.append(f"{when} >= {params.add(filters.taken_after)}")
    if filters.taken_before:
        clauses.append(f"{when} < {params.add(filters.taken_before)}")
    if filters.created_after:
        clauses.append(f"i.created_at >= {params.add(filters.created_after)}")
    if filters.created_before:
        clauses.append(f"i.created_at < {params.add(filters.created_before)}")
    if filters.album_id is not None:
        album = params.add(filters.album_id)
        clauses.append(
            f"""EXISTS (SELECT 1 FROM album_items ai WHERE ai.album_id = {album}
                         AND ai.item_id = i.id AND ai.user_id = i.user_id)"""
        )
    if filters.favorite is not None:
        clauses.append(f"i.favorited_at IS {'NOT ' if filters.favorite else ''}NULL")
    if filters.has_text is not None:
        clauses.append(f"(a.visible_text <> '') = {params.add(filters.has_text)}")
    return " AND ".join(clauses)


async def keyword(
    connection: Connection,
    user_id: str,
    query: str,
    filters: Filters,
    limit: int,
    *,
    params: bm25.Bm25 = _DEFAULT_BM25,
) -> list[tuple[uuid.UUID, float]]:
    """Okapi BM25 over each item's latest analysis, any query term, best first (raw scores).

    See :mod:`collections_search.bm25` for the statistics, prefix and typo expansion.
    """
    sql_params = _Params(user_id, query, params.k1, params.b)
    where = _filter_sql(user_id, filters, sql_params)
    limit_param = sql_params.add(limit)
    return await bm25.search(
        connection,
        params,
        where=where,
        values=sql_params.values,
        limit_param=limit_param,
        unfiltered=filters == _NO_FILTERS,
    )


def vector_query(
    user_id: str, *, model: str, embedding: list[float], filters: Filters, limit: int
) -> tuple[str, list[Any]]:
    """The nearest-items SQL and its parameters (separate so its plan can be checked).

    The dimension is inlined as a literal, not a parameter: the HNSW indexes are partial
    (``WHERE dimensions = 384``), and a generic plan (asyncpg switches a prepared statement to
    one after five runs) cannot prove ``dimensions = $n`` implies that predicate, so it would
    fall back to an exact scan. It is ``len()`` of the vector, an int, so inlining is safe.
    """
    dims = len(embedding)
    column = f"e.embedding::vector({dims})" if dims in INDEXED_DIMENSIONS else "e.embedding"
    params = _Params(embedding, model)
    where = _filter_sql(user_id, filters, params)
    limit_param = params.add(limit)
    sql = f"""SELECT e.item_id, {column} <=> $1::vector({dims}) AS distance
                FROM embeddings e
                JOIN items i ON i.id = e.item_id
                JOIN analyses a ON a.id = i.latest_analysis_id
               WHERE e.model = $2 AND e.dimensions = {dims} AND e.user_id = i.user_id
                 AND {where}
               ORDER BY {column} <=> $1::vector({dims})
               LIMIT {limit_param}"""
    return sql, params.values


def index_query(
    user_id: str, *, model: str, embedding: list[float], limit: int
) -> tuple[str, list[Any]]:
    """The nearest-items SQL of an unfiltered search that walks the HNSW index.

    Without filters the joins of :func:`vector_query` change nothing (an embedding exists only
    for an analysed item of its owner).
    """
    dims = len(embedding)
    column = f"e.embedding::vector({dims})"
    sql = f"""SELECT e.item_id, {column} <=> $1::vector({dims}) AS distance
                FROM embeddings e
               WHERE e.model = $2 AND e.dimensions = {dims} AND e.user_id = $3
               ORDER BY {column} <=> $1::vector({dims})
               LIMIT $4"""
    return sql, [embedding, model, user_id, limit]


_SCAN = f"""
WITH counts AS (
    SELECT coalesce((SELECT docs FROM search_stats WHERE user_id = $1), 0)::float8 AS tenant,
           (SELECT reltuples FROM pg_class WHERE oid = 'embeddings'::regclass) AS table_rows
), path AS (
    SELECT $5::boolean AND tenant > $4
           AND tenant * tenant >= {INDEX_VISIT_COST} * $3 * greatest(table_rows, tenant) AS index
      FROM counts
)
SELECT index,
       set_config('hnsw.iterative_scan', 'relaxed_order', true) AS iterative_scan,
       set_config('hnsw.ef_search', $2, true) AS ef_search,
       set_config('enable_sort', CASE WHEN index THEN 'off' ELSE current_setting('enable_sort')
                                 END, true) AS enable_sort
  FROM path
"""


async def choose_vector_scan(
    connection: Connection,
    user_id: str,
    *,
    limit: int,
    ef_search: int,
    exact_max_items: int,
    indexable: bool,
) -> bool:
    """Whether the HNSW index is walked (and sorting disabled for it); sets the scan options.

    The planner cannot tell: its estimate of the tenant's share of the table multiplies the
    tenant filter by the row-level-security one, so it thinks every tenant small and sorts the
    tenant's rows exactly (240 ms at 100,000 items). An iterative index scan visits about
    ``limit * table / tenant`` vectors to find ``limit`` of the tenant's, each costing about
    ``INDEX_VISIT_COST`` times a vector an exact scan reads, and the exact scan reads
    ``tenant`` of them. The index pays when it reads less, past ``exact_max_items`` (below it an
    exact scan is fast and its recall is 1). With sorting disabled the index is the one way to
    produce the order. ``hnsw.iterative_scan`` keeps scanning until enough rows survive the
    tenant and filter conditions (pgvector ≥ 0.8). One round trip: a search pays for each.
    """
    through_index = await connection.fetchval(
        _SCAN, user_id, str(ef_search), limit, exact_max_items, indexable
    )
    return bool(through_index)


async def vector(
    pool: Pool,
    user_id: str,
    *,
    model: str,
    embedding: list[float],
    filters: Filters,
    limit: int,
    ef_search: int,
    exact_max_items: int,
) -> list[tuple[uuid.UUID, float]]:
    """Nearest items by cosine distance (``<=>``), through the HNSW index when it pays.

    In a transaction of its own: the scan options it sets last until the transaction ends.
    Filtered searches keep the planner's choice (a filter can leave too few rows for the
    index); without filters the joins change nothing, so the embeddings table alone answers.
    """
    indexable = filters == _NO_FILTERS and len(embedding) in INDEXED_DIMENSIONS
    async with tenant_transaction(pool, user_id) as connection:
        through_index = await choose_vector_scan(
            connection, user_id, limit=limit, ef_search=ef_search,
            exact_max_items=exact_max_items, indexable=indexable,
        )  # fmt: skip
        if through_index:
            sql, values = index_query(user_id, model=model, embedding=embedding, limit=limit)
        else:
            sql, values = vector_query(
                user_id, model=model, embedding=embedding, filters=filters, limit=limit
            )
        # Two statement texts, so each cached plan is made under the settings it runs with.
        rows = await connection.fetch(sql, *values)
    results = [(row["item_id"], 1.0 - float(row["distance"])) for row in rows]
    # relaxed_order may return rows slightly out of order; the caller wants them sorted.
    return sorted(results, key=lambda pair: pair[1], reverse=True)


async def any_offline_analysis(connection: Connection, item_ids: list[uuid.UUID]) -> bool:
    """Whether the offline analyzer wrote the latest analysis of any of these items."""
    return bool(
        await connection.fetchval(
            """SELECT EXISTS (SELECT 1 FROM items i JOIN analyses a ON a.id = i.latest_analysis_id
                               WHERE i.id = ANY($1::uuid[]) AND a.provider = $2)""",
            item_ids,
            OFFLINE_PROVIDER,
        )
    )


async def cards(
    connection: Connection, item_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """What a result shows about each item, by id."""
    rows = await connection.fetch(
        """SELECT i.id, i.filename, i.status, i.category, i.created_at, i.taken_at,
                  i.derivative_keys, coalesce(a.summary, '') AS summary,
                  coalesce(a.tags, '{}') AS tags, coalesce(a.objects, '{}') AS objects,
                  coalesce(a.visible_text, '') AS visible_text
             FROM items i LEFT JOIN analyses a ON a.id = i.latest_analysis_id
            WHERE i.id = ANY($1::uuid[])""",
        item_ids,
    )
    return {row["id"]: dict(row) for row in rows}


async def answer_context(
    connection: Connection, user_id: str, item_ids: list[uuid.UUID], *, max_chars: int
) -> dict[uuid.UUID, dict[str, str]]:
    """What an answer may quote beyond the result cards: description and visible text, capped."""
    rows = await connection.fetch(
        """SELECT i.id, left(coalesce(a.description, ''), $3) AS description,
                  left(coalesce(a.visible_text, ''), $3) AS visible_text
             FROM items i JOIN analyses a ON a.id = i.latest_analysis_id
            WHERE i.user_id = $1 AND i.id = ANY($2::uuid[])""",
        user_id,
        item_ids,
        max_chars,
    )
    return {
        row["id"]: {"description": row["description"], "visible_text": row["visible_text"]}
        for row in rows
    }
