"""The golden photos as analysed items written straight into PostgreSQL (no analyzer run).

Summary from caption 0, description from captions 1-2, content words as tags, a vector from the
given embedding model; captions 3-4 are then queries the item was not built from.
"""

from __future__ import annotations

import re
import uuid

from collections_devtools.testing.analysed import Analysed, Embedded
from collections_devtools.testing.analysed import insert_analysed as insert
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
    words = [w for w in re.findall(r"[a-z]+", " ".join(captions[:3]).lower()) if w not in _STOP]
    tags = tuple(dict.fromkeys(words))[:10]
    document = f"{captions[0]} {' '.join(tags)}"
    [vector] = await embedder.embed_documents([document])
    analysed = Analysed(
        summary=captions[0], description=" ".join(captions[1:3]), tags=tags, provider="import",
        model="bench",
    )  # fmt: skip
    return await insert(owner_dsn, user_id, analysed, Embedded(embedder.model, vector, document))
