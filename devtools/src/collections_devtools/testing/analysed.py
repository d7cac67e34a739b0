"""Searchable items written straight into PostgreSQL as the owner role, without the pipeline.

For search tests and benchmarks that need many analysed items fast: the item, its analysis
(the latest) and its embedding, as the services would leave them. The BM25 statistics follow
by the migration's triggers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class Analysed:
    """The analysis fields search reads, and who wrote the analysis."""

    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    category: str = "other"
    visible_text: str = ""
    taken_at: datetime | None = None
    provider: str = "local"
    model: str = "test"
    filename: str = "photo.jpg"


@dataclass(frozen=True)
class Embedded:
    """The item's vector, the embedding model that made it and the text it was made from."""

    model: str
    vector: list[float]
    document: str


async def insert_analysed(
    owner_dsn: str, user_id: str, analysed: Analysed, embedded: Embedded | None
) -> uuid.UUID:
    """One searchable item of ``user_id`` with ``analysed`` as its latest analysis; its id.
    Without ``embedded`` it has no vector (a test whose search is faked needs none)."""
    item_id, analysis_id = uuid.uuid4(), uuid.uuid4()
    connection = await asyncpg.connect(owner_dsn)
    try:
        await connection.execute(
            """INSERT INTO items (id, user_id, status, original_key, filename, category, taken_at)
               VALUES ($1, $2, 'searchable', $3, $4, $5, $6)""",
            item_id, user_id, f"{user_id}/images/{item_id}.jpg", analysed.filename,
            analysed.category, analysed.taken_at,
        )  # fmt: skip
        await connection.execute(
            """INSERT INTO analyses (id, item_id, user_id, version, source_event_id, provider,
                   model, prompt_version, category, summary, description, tags, objects,
                   visible_text, colors, setting, data)
               VALUES ($1, $2, $3, 1, $4, $5, $6, 'v1', $7, $8, $9, $10, '{}', $11, '{}', '',
                       '{}'::jsonb)""",
            analysis_id, item_id, user_id, uuid.uuid4(), analysed.provider, analysed.model,
            analysed.category, analysed.summary, analysed.description, list(analysed.tags),
            analysed.visible_text,
        )  # fmt: skip
        await connection.execute(
            "UPDATE items SET latest_analysis_id = $1 WHERE id = $2", analysis_id, item_id
        )
        if embedded is None:
            return item_id
        await connection.execute(
            """INSERT INTO embeddings (id, item_id, user_id, analysis_id, model, dimensions,
                                       embedding, document)
               VALUES ($1, $2, $3, $4, $5, $6, $7::real[]::vector, $8)""",
            uuid.uuid4(), item_id, user_id, analysis_id, embedded.model, len(embedded.vector),
            embedded.vector, embedded.document,
        )  # fmt: skip
    finally:
        await connection.close()
    return item_id
