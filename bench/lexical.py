"""The keyword arm before and after BM25, on the golden set, in the same run.

Uploads the golden photos through a fresh local stack (offline analyzer), then asks every
caption as a query twice against the same database: the former ``ts_rank_cd`` query (kept here
only, as the baseline) and the service's BM25 (`collections_search.repository.keyword`), for a
few (k1, b) pairs. Reports R@1/5/10 and MRR@10 and the in-database time per query (p50/p95).
Run ``python -m bench lexical``.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from bench.search_quality import _ingest, _rows
from collections_devtools.testing.api import sign_up
from collections_devtools.testing.golden import GOLDEN
from collections_devtools.testing.stack import gateway_client, running_stack
from collections_search.bm25 import Bm25
from collections_search.repository import keyword
from collections_shared.db import Connection
from collections_shared.domain.search import Filters

CUTOFFS = (1, 5, 10)
PARAMETERS = ((1.2, 0.75), (1.2, 0.3), (0.9, 0.4), (2.0, 0.75))
Search = Callable[[Connection, str, str], Awaitable[list[uuid.UUID]]]

TS_RANK_CD = """
WITH q AS (
    SELECT nullif(replace(plainto_tsquery('english', $2)::text, '&', '|'), '')::tsquery AS en,
           nullif(replace(plainto_tsquery('simple', $2)::text, '&', '|'), '')::tsquery AS simple
)
SELECT i.id
  FROM items i JOIN analyses a ON a.id = i.latest_analysis_id CROSS JOIN q
 WHERE i.user_id = $1 AND (a.search_vector @@ q.en OR a.search_vector @@ q.simple)
 ORDER BY greatest(coalesce(ts_rank_cd(a.search_vector, q.en, 32), 0),
                   coalesce(ts_rank_cd(a.search_vector, q.simple, 32), 0)) DESC,
          i.created_at DESC
 LIMIT 52"""


async def _ts_rank_cd(connection: Connection, user_id: str, query: str) -> list[uuid.UUID]:
    return [row["id"] for row in await connection.fetch(TS_RANK_CD, user_id, query)]


def _bm25(params: Bm25) -> Search:
    async def search(connection: Connection, user_id: str, query: str) -> list[uuid.UUID]:
        async with connection.transaction():
            hits = await keyword(connection, user_id, query, Filters(), 52, params=params)
        return [item_id for item_id, _ in hits]

    return search


def _metrics(ranks: list[int | None]) -> dict[str, float]:
    total = len(ranks)
    scores = {f"R@{k}": sum(1 for r in ranks if r is not None and r <= k) / total for k in CUTOFFS}
    scores["MRR@10"] = sum(1 / r for r in ranks if r is not None and r <= 10) / total
    return {key: round(value, 3) for key, value in scores.items()}


async def _arm(
    connection: Connection,
    user_id: str,
    queries: list[tuple[str, str]],
    ids: dict[str, str],
    search: Search,
) -> dict[str, Any]:
    ranks: list[int | None] = []
    latencies: list[float] = []
    for wanted, caption in queries:
        started = time.perf_counter()
        hits = await search(connection, user_id, caption)
        found = [ids.get(str(item_id), "") for item_id in hits]
        latencies.append((time.perf_counter() - started) * 1000)
        ranks.append(found.index(wanted) + 1 if wanted in found else None)
    cuts = statistics.quantiles(latencies, n=100)
    return {**_metrics(ranks), "p50_ms": round(cuts[49], 2), "p95_ms": round(cuts[94], 2)}


async def _measure() -> dict[str, Any]:
    rows = _rows()
    queries = [(row["id"], caption) for row in rows for caption in row["captions"]]
    with tempfile.TemporaryDirectory(prefix="collections-lexical-") as folder:
        async with (
            running_stack(Path(folder) / "state") as stack,
            gateway_client(stack, request_timeout=120) as api,
        ):
            user = await sign_up(api, f"lexical-{uuid.uuid4().hex[:8]}@example.com")
            ids = await _ingest(api, user, rows)
            async with (
                asyncpg.create_pool(stack.owner_database_url(), min_size=1, max_size=1) as pool,
                pool.acquire() as connection,
            ):
                user_id = await connection.fetchval(
                    "SELECT user_id FROM items WHERE id = $1", uuid.UUID(next(iter(ids)))
                )
                result: dict[str, Any] = {"items": len(ids), "queries": len(queries)}
                result["ts_rank_cd"] = await _arm(connection, user_id, queries, ids, _ts_rank_cd)
                for k1, b in PARAMETERS:
                    arm = _bm25(Bm25(k1=k1, b=b))
                    result[f"bm25 k1={k1} b={b}"] = await _arm(
                        connection, user_id, queries, ids, arm
                    )
    return result


def run() -> dict[str, Any]:
    """Print the old and the new keyword arm side by side."""
    if not (GOLDEN / "captions.jsonl").exists():
        print(f"golden set not found at {GOLDEN}; skipped")
        return {"skipped": True}
    result = asyncio.run(_measure())
    print(f"{result['items']} photos, {result['queries']} caption queries")
    print("| keyword arm | R@1 | R@5 | R@10 | MRR@10 | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for name, scores in result.items():
        if isinstance(scores, dict):
            cells = " | ".join(
                str(scores[key]) for key in ("R@1", "R@5", "R@10", "MRR@10", "p50_ms", "p95_ms")
            )
            print(f"| {name} | {cells} |")
    return result
