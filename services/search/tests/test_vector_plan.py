"""The vector query's plan: the partial HNSW index must serve it under a generic plan too."""

from __future__ import annotations

import json
import random
from typing import Any

import asyncpg

from collections_devtools.testing.fixtures import DatabaseUnderTest
from collections_search.repository import choose_vector_scan, index_query, vector, vector_query
from collections_shared.db import Connection, create_pool, tenant_transaction
from collections_shared.domain.search import Filters

DIMS = 384
MODEL = "bench-model"

# Items, their analyses and vectors in one statement (foreign keys are checked at its end).
_SEED = """
WITH source AS (
    SELECT gen_random_uuid() AS item, gen_random_uuid() AS analysis, n
      FROM generate_series(1, $2) AS n
), items_in AS (
    INSERT INTO items (id, user_id, status, original_key, latest_analysis_id)
    SELECT item, $1, 'searchable', 'k/' || n, analysis FROM source
), analyses_in AS (
    INSERT INTO analyses (id, item_id, user_id, version, source_event_id, provider, model,
                          prompt_version, category, summary, description, tags, objects,
                          visible_text, colors, setting, data)
    SELECT analysis, item, $1, 1, gen_random_uuid(), 'local', 'm', 'p', 'other', 'photo', '',
           '{}', '{}', '', '{}', '', '{}' FROM source
)
INSERT INTO embeddings (id, item_id, user_id, analysis_id, model, dimensions, embedding, document)
SELECT gen_random_uuid(), item, $1, analysis, $3, $4,
       -- the outer reference makes the subquery run once per row: a different vector each
       (SELECT array_agg(random() - 0.5) FROM generate_series(1, $4) WHERE n > 0)::real[]::vector,
       ''
  FROM source
"""


async def _seed(database: DatabaseUnderTest, tenants: tuple[tuple[str, int], ...]) -> None:
    """``count`` analysed items with random vectors for each ``(user_id, count)``; then ANALYZE."""
    owner = await asyncpg.connect(database.owner_dsn)
    try:
        for user_id, count in tenants:
            await owner.execute(_SEED, user_id, count, MODEL, DIMS)
        await owner.execute("ANALYZE")
    finally:
        await owner.close()


def _index_scans(node: dict[str, Any]) -> list[str]:
    own = [node["Index Name"]] if "Index Name" in node else []
    return own + [name for child in node.get("Plans", []) for name in _index_scans(child)]


async def _generic_plan_indexes(connection: Connection, sql: str, args: list[str]) -> list[str]:
    """Index names in the plan of ``sql``, prepared server-side, under a forced generic plan."""
    await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    await connection.execute(f"PREPARE nearest AS {sql}")
    try:
        explained = await connection.fetchval(
            f"EXPLAIN (FORMAT JSON) EXECUTE nearest({', '.join(args)})"
        )
    finally:
        await connection.execute("DEALLOCATE nearest")
    plan = json.loads(explained)[0]["Plan"]
    return _index_scans(plan)


async def test_vector_query_uses_hnsw_index_under_generic_plan(
    database: DatabaseUnderTest,
) -> None:
    """Under a forced generic plan the tenant's nearest-items query scans the HNSW index."""
    await _seed(database, (("user-a", 300), ("user-b", 3000)))
    embedding = [random.uniform(-0.5, 0.5) for _ in range(DIMS)]
    sql, values = vector_query(
        "user-a", model=MODEL, embedding=embedding, filters=Filters(), limit=10
    )
    assert len(values) == 4  # vector, model, user, limit: the dimension is not a parameter
    args = [f"'[{','.join(map(str, embedding))}]'", f"'{MODEL}'", "'user-a'", "10"]
    # The same query with the dimension as a parameter: the generic plan it gets cannot prove
    # the partial index's predicate, which shows the forced generic plan is in effect.
    parameterised = sql.replace(f"e.dimensions = {DIMS}", "e.dimensions = $5")
    pool = await create_pool(database.app_dsn, max_size=1)
    try:
        async with tenant_transaction(pool, "user-a") as connection:
            assert "embeddings_hnsw_384" in await _generic_plan_indexes(connection, sql, args)
            control = await _generic_plan_indexes(connection, parameterised, [*args, str(DIMS)])
            assert "embeddings_hnsw_384" not in control
    finally:
        await pool.close()


async def test_the_index_is_walked_when_it_reads_fewer_vectors_than_an_exact_scan(
    database: DatabaseUnderTest,
) -> None:
    """A tenant holding most of the table goes through the index with sorting off and the
    scan options set; a small share of it, a tenant at or below ``exact_max_items`` or a
    filtered search keeps sorting on; the index path's query then plans an HNSW scan even as
    a generic plan, where with sorting on it sorts the tenant's rows."""
    await _seed(database, (("small", 100), ("large", 2000)))
    embedding = [random.uniform(-0.5, 0.5) for _ in range(DIMS)]
    sql, _ = index_query("large", model=MODEL, embedding=embedding, limit=100)
    args = [f"'[{','.join(map(str, embedding))}]'", f"'{MODEL}'", "'large'", "100"]
    pool = await create_pool(database.app_dsn, max_size=1)

    async def chosen(user_id: str, exact_max_items: int, *, indexable: bool = True) -> bool:
        async with tenant_transaction(pool, user_id) as connection:
            through_index = await choose_vector_scan(
                connection, user_id, limit=100, ef_search=40,
                exact_max_items=exact_max_items, indexable=indexable,
            )  # fmt: skip
            sorting = await connection.fetchval("SHOW enable_sort")
            assert "40" == await connection.fetchval("SHOW hnsw.ef_search")
            assert ("off" if through_index else "on") == sorting
            return through_index

    try:
        assert await chosen("large", 1000)
        assert not await chosen("large", 2000)
        assert not await chosen("large", 1000, indexable=False)
        # 100 of 2,100 rows: the index would visit ~2,100 vectors to find 100 of them.
        assert not await chosen("small", 10)
        async with tenant_transaction(pool, "large") as connection:
            assert "embeddings_hnsw_384" not in await _generic_plan_indexes(connection, sql, args)
            await connection.execute("SET LOCAL enable_sort = off")
            assert "embeddings_hnsw_384" in await _generic_plan_indexes(connection, sql, args)
    finally:
        await pool.close()


async def test_the_index_path_returns_the_tenants_nearest_items_best_first(
    database: DatabaseUnderTest,
) -> None:
    """Through the index a large tenant gets ``limit`` of its own items, best first, with an
    item's own vector as the query finding that item first (similarity 1)."""
    await _seed(database, (("other", 500), ("large", 1500)))
    owner = await asyncpg.connect(database.owner_dsn)
    try:
        item_id, text = await owner.fetchrow(
            "SELECT item_id, embedding::text FROM embeddings WHERE user_id = 'large' LIMIT 1"
        )
        theirs = {row[0] for row in await owner.fetch(
            "SELECT id FROM items WHERE user_id = 'large'"
        )}  # fmt: skip
    finally:
        await owner.close()
    embedding = [float(x) for x in text.strip("[]").split(",")]
    pool = await create_pool(database.app_dsn, max_size=1)
    try:
        async with tenant_transaction(pool, "large") as connection:
            assert await choose_vector_scan(
                connection, "large", limit=20, ef_search=40, exact_max_items=1000, indexable=True
            )
        found = await vector(
            pool, "large", model=MODEL, embedding=embedding, filters=Filters(),
            limit=20, ef_search=40, exact_max_items=1000,
        )  # fmt: skip
    finally:
        await pool.close()
    assert 20 == len(found)
    assert {item for item, _ in found} <= theirs
    assert (item_id, 1.0) == (found[0][0], round(found[0][1], 4))
    assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)
