"""Generated data of ``bench.search_scale``: topics, items round them, and queries.

Items are written with the generator of :mod:`bench.items_scale`; each gets an analysis whose
summary and tags are drawn from a generated vocabulary (words of its topic plus common words, so
the keyword arm sees a realistic spread of term frequencies) and a 384-dimension embedding near
its topic's centroid (clusters, so approximate search is meaningful). The HNSW index is rebuilt
once after loading, with the migration's definition, which is faster than growing it row by row.
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import asyncpg
import numpy as np

from bench.items_scale import _SEED as ITEMS_SEED

DIMS, MODEL, TOPICS = 384, "bench-minilm-384", 200
Query = tuple[str, list[float]]
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


async def load(
    dsn: str, corpus: Corpus, sizes: list[int], others: int, other_items: int
) -> dict[int, str]:
    """Load one tenant per size and ``others`` tenants of ``other_items``; tenant ids by size."""
    owner = await asyncpg.connect(dsn)
    from pgvector.asyncpg import register_vector  # noqa: PLC0415

    await register_vector(owner)
    try:
        await owner.execute("DROP INDEX embeddings_hnsw_384")
        tenants = {size: f"bench-{size}-{uuid.uuid4().hex[:6]}" for size in sizes}
        for size, user_id in tenants.items():
            await _load_tenant(owner, corpus, user_id, size)
        for n in range(others):
            await _load_tenant(owner, corpus, f"other-{n}-{uuid.uuid4().hex[:6]}", other_items)
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


def queries(corpus: Corpus, count: int) -> list[Query]:
    """``count`` queries: two words of a random topic and a vector near its centroid."""
    topics = corpus.np.integers(0, TOPICS, size=count)
    vectors = corpus.vectors(topics, spread=0.8)
    return [
        (" ".join(corpus.rng.sample(corpus.topics[int(topic)], 2)), vector.tolist())
        for topic, vector in zip(topics, vectors, strict=True)
    ]
