"""Search at 10k and 100k items for one tenant, with 20 other tenants in the same tables.

Starts the local stack in a temporary directory and stops its services (their polling would
share the cores); only PostgreSQL is used. Items are written with the generator of
:mod:`bench.items_scale`; each gets an analysis whose summary and tags are drawn from a
generated vocabulary (words of its topic plus common words, so the keyword arm sees a
realistic spread of term frequencies) and a 384-dimension embedding near its topic's centroid
(clusters, so approximate search is meaningful). The HNSW index is rebuilt once after loading,
with the migration's definition, which is faster than growing it row by row.

Each mode is timed in the search service's own code path: the repository functions inside a
tenant transaction on the application role's pool (RLS on), as ``SearchService`` calls them;
hybrid runs both arms at once on two connections, as the service does. Queries take turns across
modes so a busy machine slows them alike; asyncpg prepares the statements, so after five runs
they execute with generic plans. Baselines from the same run: a tenant transaction with
``SELECT 1`` (the floor) and the exact vector scan (the HNSW index disabled), timed in a pass
of its own after the others: it reads every vector of the tenant, more than the buffer cache
holds at 100,000, and would evict the index pages the next query needs. Recall@10 of the
index is measured against that exact scan. Every vector query must return ``k`` rows for the
tenant (``hnsw.iterative_scan``) even though most of the table belongs to others.

Targets at 100k (issue 11): keyword ≤ 10 ms, vector ≤ 6 ms, hybrid ≤ 15 ms p50.
``BENCH_SEARCH_SIZES`` (default ``10000,100000``), ``BENCH_SEARCH_OTHERS`` (items per other
tenant, default 2500) and ``BENCH_SEARCH_QUERIES`` (default 200) change the size.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np

from bench.items_scale import _SEED as ITEMS_SEED
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
DIMS, MODEL, TOPICS, K = 384, "bench-minilm-384", 200, 10
CANDIDATES, EF_SEARCH, EXACT_MAX_ITEMS = 100, 100, 2000  # the search service's defaults
WARM_UP = 10
TARGETS_MS = {"keyword": 10.0, "vector": 6.0, "hybrid": 15.0}
_SYLLABLES = ["ka", "lo", "mi", "ren", "to", "sa", "vel", "dor", "na", "pi", "qua", "ber"]

_ANALYSIS_COLUMNS = ["id", "item_id", "user_id", "version", "source_event_id", "provider",
                     "model", "prompt_version", "category", "summary", "description", "tags",
                     "objects", "visible_text", "colors", "setting", "data"]  # fmt: skip
_LINK = """
UPDATE items i SET latest_analysis_id = a.id FROM analyses a
 WHERE a.item_id = i.id AND i.id = ANY($1::uuid[])
"""
LINK_BATCH = 2000
"""Items linked to their analyses per statement: each link updates the tenant's one
``search_stats`` row (a BM25 trigger), and a row updated n times in one transaction leaves a
chain of n versions to walk, so one statement for 100,000 items would take quadratic time."""


def _vocabulary(rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < TOPICS * 10 + 500:
        words.add("".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))))
    return sorted(words)


class Corpus:
    """Topics with their words and centroids; items and queries are drawn around them."""

    def __init__(self, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        words = _vocabulary(self.rng)
        self.common = words[TOPICS * 10 :]
        self.topics = [words[t * 10 : t * 10 + 10] for t in range(TOPICS)]
        self.centroids = self.np.normal(size=(TOPICS, DIMS)).astype(np.float32)

    def vectors(self, topics: np.ndarray[Any, Any], spread: float) -> np.ndarray[Any, Any]:
        noisy = self.centroids[topics] + self.np.normal(scale=spread, size=(len(topics), DIMS))
        unit: np.ndarray[Any, Any] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
        return unit.astype(np.float32)

    def text(self, topic: int) -> tuple[str, list[str]]:
        own = self.rng.sample(self.topics[topic], 4)
        # Common words follow a Zipf-like spread: a few are everywhere, most are rare.
        common = [self.common[min(int(self.rng.paretovariate(1.0)) - 1, 499)] for _ in range(6)]
        return " ".join([*own, *common]), own[:2]


async def _load_tenant(owner: asyncpg.Connection, corpus: Corpus, user_id: str, n: int) -> None:
    await owner.execute(ITEMS_SEED, user_id, n)
    items = [
        row[0] for row in await owner.fetch("SELECT id FROM items WHERE user_id = $1", user_id)
    ]
    topics = corpus.np.integers(0, TOPICS, size=len(items))
    vectors = corpus.vectors(topics, spread=0.6)
    texts = [corpus.text(int(topic)) for topic in topics]
    analyses = [uuid.uuid4() for _ in items]
    await owner.copy_records_to_table(
        "analyses",
        columns=_ANALYSIS_COLUMNS,
        records=[
            (analysis, item, user_id, 1, uuid.uuid4(), "bench", "bench", "v1", "other", summary,
             summary, tags, [], "", [], "", "{}")
            for analysis, item, (summary, tags) in zip(analyses, items, texts, strict=True)
        ],
    )  # fmt: skip
    for start in range(0, len(items), LINK_BATCH):
        await owner.execute(_LINK, items[start : start + LINK_BATCH])
    await owner.copy_records_to_table(
        "embeddings",
        columns=["id", "item_id", "user_id", "analysis_id", "model", "dimensions", "embedding",
                 "document"],
        records=[
            (uuid.uuid4(), item, user_id, analysis, MODEL, DIMS, vectors[i], texts[i][0])
            for i, (item, analysis) in enumerate(zip(items, analyses, strict=True))
        ],
    )  # fmt: skip


async def _load(dsn: str, corpus: Corpus) -> dict[int, str]:
    owner = await asyncpg.connect(dsn)
    from pgvector.asyncpg import register_vector  # noqa: PLC0415

    await register_vector(owner)
    try:
        await owner.execute("DROP INDEX embeddings_hnsw_384")
        tenants = {size: f"bench-{size}-{uuid.uuid4().hex[:6]}" for size in SIZES}
        for size, user_id in tenants.items():
            await _load_tenant(owner, corpus, user_id, size)
        for n in range(OTHER_TENANTS):
            await _load_tenant(owner, corpus, f"other-{n}-{uuid.uuid4().hex[:6]}", OTHER_ITEMS)
        await owner.execute("SET maintenance_work_mem = '1GB'")
        started = time.perf_counter()
        await owner.execute(
            """CREATE INDEX embeddings_hnsw_384 ON embeddings
                   USING hnsw ((embedding::vector(384)) vector_cosine_ops)
                   WHERE dimensions = 384"""
        )
        print(f"HNSW index built in {time.perf_counter() - started:.0f} s")
        await owner.execute("ANALYZE")
    finally:
        await owner.close()
    return tenants


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


def _queries(corpus: Corpus) -> list[Query]:
    topics = corpus.np.integers(0, TOPICS, size=QUERIES + WARM_UP)
    vectors = corpus.vectors(topics, spread=0.8)
    return [
        (" ".join(corpus.rng.sample(corpus.topics[int(topic)], 2)), vector.tolist())
        for topic, vector in zip(topics, vectors, strict=True)
    ]


Query = tuple[str, list[float]]


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
        for name, queries in asked.items():
            text, embedding = queries[n]
            started = time.perf_counter()
            found = await ARMS[name](pool, user_id, text, embedding)
            if n >= WARM_UP:
                times[name].append((time.perf_counter() - started) * 1000)
                results[name].append(found)
    return times, results


async def _measure(pool: Pool, user_id: str, corpus: Corpus) -> dict[str, Any]:
    served = ("floor_select_1", "keyword", "vector", "hybrid", "index_path_baseline")
    asked = {name: _queries(corpus) for name in served}
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
            tenants = await _load(stack.owner_database_url(), corpus)
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
    results = asyncio.run(_bench())
    _print(results)
    return {
        "sizes": SIZES,
        "other_tenants": f"{OTHER_TENANTS} x {OTHER_ITEMS}",
        "load_average": round(os.getloadavg()[0], 2),
        **results,
    }
