"""The golden photos as analysed items written straight into PostgreSQL (no analyzer run).

Summary from caption 0, description from captions 1-2, content words as tags, a vector from the
given embedding model; captions 3-4 are then queries the item was not built from.
"""

from __future__ import annotations

import re
import uuid

import asyncpg

from collections_embeddings.base import EmbeddingProvider

_STOP_WORDS = (
    "a an the and or of in on at to with for from by is are was were be it its this that there "
    "some two three several very while near next into over under up down out one each has"
)
_STOP = frozenset(_STOP_WORDS.split())


async def insert_analysed(
    owner_dsn: str, embedder: EmbeddingProvider, user_id: str, captions: list[str]
) -> uuid.UUID:
    """One analysed, embedded, searchable item built from ``captions``; its id."""
    item_id, analysis_id = uuid.uuid4(), uuid.uuid4()
    words = [w for w in re.findall(r"[a-z]+", " ".join(captions[:3]).lower()) if w not in _STOP]
    tags = list(dict.fromkeys(words))[:10]
    [vector] = await embedder.embed_documents([f"{captions[0]} {' '.join(tags)}"])
    connection = await asyncpg.connect(owner_dsn)
    try:
        await connection.execute(
            """INSERT INTO items (id, user_id, status, original_key, filename, category)
               VALUES ($1, $2, 'searchable', $3, 'golden.jpg', 'other')""",
            item_id, user_id, f"{user_id}/images/{item_id}.jpg",
        )  # fmt: skip
        await connection.execute(
            """INSERT INTO analyses (id, item_id, user_id, version, source_event_id, provider,
                   model, prompt_version, category, summary, description, tags, objects,
                   visible_text, colors, setting, data)
               VALUES ($1, $2, $3, 1, $4, 'import', 'bench', 'v1', 'other', $5, $6, $7, '{}', '',
                       '{}', '', '{}'::jsonb)""",
            analysis_id, item_id, user_id, uuid.uuid4(), captions[0], " ".join(captions[1:3]),
            tags,
        )  # fmt: skip
        await connection.execute(
            "UPDATE items SET latest_analysis_id = $1 WHERE id = $2", analysis_id, item_id
        )
        await connection.execute(
            """INSERT INTO embeddings (id, item_id, user_id, analysis_id, model, dimensions,
                                       embedding, document)
               VALUES ($1, $2, $3, $4, $5, $6, $7::real[]::vector, $8)""",
            uuid.uuid4(), item_id, user_id, analysis_id, embedder.model, embedder.dimensions,
            vector, captions[0],
        )  # fmt: skip
    finally:
        await connection.close()
    return item_id
