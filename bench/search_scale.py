"""Search at 10k and 100k items for one tenant, with 20 other tenants in the same tables.

Starts the local stack in a temporary directory and stops its services (their polling would
share the cores); only PostgreSQL is used. The data is generated (:mod:`bench._scale_corpus`).

Each mode is timed in the search service's own code path: the repository functions on the
application role's pool (RLS on), as ``SearchService`` calls them; hybrid runs both arms at once
on two connections, as the service does. Each mode has queries of its own, and the modes take
turns so a busy machine slows them alike; asyncpg prepares the statements, so after five runs
they execute with generic plans. Baselines from the same run: a tenant transaction with
``SELECT 1`` (the floor), the index path forced, and the exact vector scan (the HNSW index
disabled), timed in a pass of its own after the others: it reads every vector of the tenant,
more than the buffer cache holds at 100,000, and would evict the index pages the next query
needs. Recall@10 of the index is measured against that exact scan. Every vector query must
return ``k`` rows for the tenant (``hnsw.iterative_scan``) even though most of the table
belongs to others.

Targets at 100k (issue 11): keyword ≤ 10 ms, vector ≤ 6 ms, hybrid ≤ 15 ms p50.
``BENCH_SEARCH_SIZES`` (default ``10000,100000``), ``BENCH_SEARCH_OTHERS`` (items per other
tenant, default 2500) and ``BENCH_SEARCH_QUERIES`` (default 200) change the size.

PostgreSQL runs with the buffer cache of the production database instance (``PROD_BUFFERS``:
RDS gives an instance a quarter of its memory, and the prod stage's t4g.small has 2 GiB),
not the local stack's 128 MB default: at 100,000 items the HNSW index alone (~300 MB) does not
fit in 128 MB. ``COLLECTIONS_PG_SHARED_BUFFERS`` overrides it (``128MB`` measures the default).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench._scale_corpus import MODEL, Corpus, Query, load, queries
from bench.items_scale import _percentiles, _plan_nodes
from collections_devtools.local.stack import SERVICES
from collections_devtools.testing.stack import running_stack
from collections_search import repository
from collections_shared.db import Pool, create_pool, tenant_transaction
from collections_shared.domain.search import Filters

SIZES = [int(size) for size in os.environ.get("BENCH_SEARCH_SIZES", "10000,100000").split(",")]
OTHER_TENANTS = 20
OTHER_ITEMS = int(os.environ.get("BENCH_SEARCH_OTHERS", "2500"))
QUERIES = int(os.environ.get("BENCH_SEARCH_QUERIES", "200"))
K = 10
CANDIDATES, EF_SEARCH, EXACT_MAX_ITEMS = 100, 100, 2000  # the search service's defaults
WARM_UP = 10
PROD_BUFFERS = "512MB"
TARGETS_MS = {"keyword": 10.0, "vector": 6.0, "hybrid": 15.0}
Arm = Callable[[Pool, str, str, list[float]], Awaitable[list[Any]]]


async def _keyword(pool: Pool, user_id: str, text: str, _: list[float]) -> list[Any]:
    async with tenant_transaction(pool, user_id) as connection:
        return await repository.keyword(connection, user_id, text, Filters(), CANDIDATES)


async def _vector(pool: Pool, user_id: str, _: str, embedding: list[float]) -> list[Any]:
    return await repository.vector(
        pool, user_id, model=MODEL, embedding=embedding, filters=Filters(),
        limit=CANDIDATES, ef_search=EF_SEARCH, exact_max_items=EXACT_MAX_ITEMS,
    )  # fmt: skip


async def _hybrid(pool: Pool, user_id: str, text: str, embedding: list[float]) -> list[Any]:
    keyword, vector = await asyncio.gather(
        _keyword(pool, user_id, text, embedding), _vector(pool, user_id, text, embedding)
    )
    return [*keyword, *vector]


async def _forced(
    pool: Pool, user_id: str, settings: str, sql: str, values: list[Any]
) -> list[Any]:
    """A baseline: the query under ``settings``, in as many round trips as the served path."""
    async with tenant_transaction(pool, user_id) as connection:
        await connection.execute(
            f"SET LOCAL hnsw.iterative_scan = relaxed_order; "
            f"SET LOCAL hnsw.ef_search = {EF_SEARCH}; {settings}"
        )
        return [
            (row["item_id"], 1.0 - row["distance"]) for row in await connection.fetch(sql, *values)
        ]


async def _exact(pool: Pool, user_id: str, _: str, embedding: list[float]) -> list[Any]:
    """The served query of a small tenant with the HNSW index disabled: an exact scan."""
    sql, values = repository.vector_query(
        user_id, model=MODEL, embedding=embedding, filters=Filters(), limit=K
    )
    return await _forced(pool, user_id, "SET LOCAL enable_indexscan = off", sql, values)


async def _index(pool: Pool, user_id: str, _: str, embedding: list[float]) -> list[Any]:
    """The index path whatever the tenant's size (``vector`` takes it only when it pays)."""
    sql, values = repository.index_query(
        user_id, model=MODEL, embedding=embedding, limit=CANDIDATES
    )
    return await _forced(pool, user_id, "SET LOCAL enable_sort = off", sql, values)


async def _floor(pool: Pool, user_id: str, _: str, __: list[float]) -> list[Any]:
    async with tenant_transaction(pool, user_id) as connection:
        return [await connection.fetchval("SELECT 1")]


ARMS: dict[str, Arm] = {
    "floor_select_1": _floor, "keyword": _keyword, "vector": _vector, "hybrid": _hybrid,
    "exact_vector_baseline": _exact, "index_path_baseline": _index,
}  # fmt: skip


async def _timed(
    pool: Pool, user_id: str, asked: dict[str, list[Query]]
) -> tuple[dict[str, list[float]], dict[str, list[list[Any]]]]:
    """Turn by turn, each arm runs its own next query; times (after the warm-up) and results.

    Each arm has queries of its own: a query a previous arm just ran would find the index
    pages it needs in the buffer cache, and the second arm would look faster than it is.
    """
    times: dict[str, list[float]] = {name: [] for name in asked}
    results: dict[str, list[list[Any]]] = {name: [] for name in asked}
    for n in range(QUERIES + WARM_UP):
        for name, own in asked.items():
            text, embedding = own[n]
            started = time.perf_counter()
            found = await ARMS[name](pool, user_id, text, embedding)
            if n >= WARM_UP:
                times[name].append((time.perf_counter() - started) * 1000)
                results[name].append(found)
    return times, results


async def _measure(pool: Pool, user_id: str, corpus: Corpus) -> dict[str, Any]:
    served = ("floor_select_1", "keyword", "vector", "hybrid", "index_path_baseline")
    asked = {name: queries(corpus, QUERIES + WARM_UP) for name in served}
    times, found = await _timed(pool, user_id, asked)
    exact_times, exact = await _timed(pool, user_id, {"exact_vector_baseline": asked["vector"]})
    recalls = [
        len({item for item, _ in truth} & {item for item, _ in approximate[:K]}) / K
        for approximate, truth in zip(found["vector"], exact["exact_vector_baseline"], strict=True)
    ]
    times = {**times, **exact_times}
    return {
        "ms": {name: _percentiles(values) for name, values in times.items()},
        "recall_at_10": round(sum(recalls) / len(recalls), 4),
        "queries": QUERIES,
        "vector_queries_short_of_k": sum(len(rows) < CANDIDATES for rows in found["vector"]),
        "plan_vector": await _plan(pool, user_id, asked["vector"][0][1]),
    }


async def _plan(pool: Pool, user_id: str, embedding: list[float]) -> list[str]:
    """The plan of the vector query the service runs, prepared, with a forced generic plan."""
    import json  # noqa: PLC0415

    async with tenant_transaction(pool, user_id) as connection:
        through_index = await repository.choose_vector_scan(
            connection, user_id, limit=CANDIDATES, ef_search=EF_SEARCH,
            exact_max_items=EXACT_MAX_ITEMS, indexable=True,
        )  # fmt: skip
        if through_index:
            sql, values = repository.index_query(
                user_id, model=MODEL, embedding=embedding, limit=CANDIDATES
            )
        else:
            sql, values = repository.vector_query(
                user_id, model=MODEL, embedding=embedding, filters=Filters(), limit=CANDIDATES
            )
        await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await connection.execute(f"PREPARE nearest AS {sql}")
        args = f"'[{','.join(map(str, embedding))}]', '{MODEL}', '{user_id}', {values[-1]}"
        explained = await connection.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE nearest({args})")
        await connection.execute("DEALLOCATE nearest")
    return _plan_nodes(json.loads(explained)[0]["Plan"])


async def _bench() -> dict[str, Any]:
    corpus = Corpus()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        async with running_stack(Path(tmp) / "state") as stack:
            await asyncio.gather(*(stack.processes[name].stop() for name in SERVICES))
            started = time.perf_counter()
            tenants = await load(
                stack.owner_database_url(), corpus, SIZES, OTHER_TENANTS, OTHER_ITEMS
            )
            total = sum(SIZES) + OTHER_TENANTS * OTHER_ITEMS
            print(f"loaded {total:,} items in {time.perf_counter() - started:.0f} s")
            pool = await create_pool(stack.app_database_url(), max_size=2)
            try:
                for size, user_id in tenants.items():
                    results[f"items_{size}"] = await _measure(pool, user_id, corpus)
                    # Printed as soon as measured: a run stopped at the larger size keeps these.
                    _print_scale(f"items_{size}", results[f"items_{size}"])
            finally:
                await pool.close()
    return results


def _print_scale(scale: str, row: dict[str, Any]) -> None:
    short = f"{row['vector_queries_short_of_k']}/{row['queries']}"
    print(f"\n{scale}: recall@10 {row['recall_at_10']}, vector queries short of k: {short}")
    print(f"vector plan (generic): {' > '.join(row['plan_vector'])}")
    print(f"{'mode':<24} {'p50 ms':>8} {'p95 ms':>8}")
    for name, ms in row["ms"].items():
        print(f"{name:<24} {ms['p50']:>8.2f} {ms['p95']:>8.2f}", flush=True)


def _print(results: dict[str, Any]) -> None:
    largest = results[f"items_{max(SIZES)}"]["ms"]
    for mode, target in TARGETS_MS.items():
        verdict = "met" if largest[mode]["p50"] <= target else "MISSED"
        print(f"target {mode} p50 <= {target} ms at {max(SIZES):,}: {verdict}")


def run() -> dict[str, Any]:
    buffers = os.environ.setdefault("COLLECTIONS_PG_SHARED_BUFFERS", PROD_BUFFERS)
    print(f"PostgreSQL shared_buffers {buffers}")
    results = asyncio.run(_bench())
    _print(results)
    return {
        "sizes": SIZES,
        "shared_buffers": buffers,
        "other_tenants": f"{OTHER_TENANTS} x {OTHER_ITEMS}",
        "load_average": round(os.getloadavg()[0], 2),
        **results,
    }
