"""SQL of the embedder (inside tenant transactions)."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from collections_shared.db import Connection
from collections_shared.domain.analysis import Analysis
from collections_shared.repository.analyses import analysis_columns, analysis_from_row


class AnalysisForEmbedding(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    item_id: uuid.UUID
    is_latest: bool
    analysis: Analysis
    filename: str
    taken_at: datetime | None


async def load_analysis(
    connection: Connection, analysis_id: uuid.UUID
) -> AnalysisForEmbedding | None:
    row = await connection.fetchrow(
        f"""SELECT a.id, a.item_id, i.latest_analysis_id = a.id AS is_latest,
                   {analysis_columns("a")}, i.filename, i.taken_at
              FROM analyses a JOIN items i ON i.id = a.item_id
             WHERE a.id = $1""",
        analysis_id,
    )
    if row is None:
        return None
    return AnalysisForEmbedding(
        id=row["id"],
        item_id=row["item_id"],
        is_latest=bool(row["is_latest"]),
        filename=row["filename"],
        taken_at=row["taken_at"],
        analysis=analysis_from_row(row),
    )


async def current_embedding(
    connection: Connection, item_id: uuid.UUID, model: str, analysis_id: uuid.UUID, document: str
) -> uuid.UUID | None:
    """The embedding with this model of exactly this analysis and document, if it is stored."""
    value: uuid.UUID | None = await connection.fetchval(
        """SELECT id FROM embeddings
            WHERE item_id = $1 AND model = $2 AND analysis_id = $3 AND document = $4""",
        item_id,
        model,
        analysis_id,
        document,
    )
    return value


async def upsert_embedding(
    connection: Connection,
    *,
    user_id: str,
    item_id: uuid.UUID,
    analysis_id: uuid.UUID,
    model: str,
    vector: list[float],
    document: str,
) -> uuid.UUID:
    """One embedding per item and model: a newer analysis replaces the older vector."""
    embedding_id: uuid.UUID = await connection.fetchval(
        """INSERT INTO embeddings (id, item_id, user_id, analysis_id, model, dimensions, embedding,
                                   document)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (item_id, model) DO UPDATE
              SET analysis_id = EXCLUDED.analysis_id, dimensions = EXCLUDED.dimensions,
                  embedding = EXCLUDED.embedding, document = EXCLUDED.document, created_at = now()
        RETURNING id""",
        uuid.uuid4(),
        item_id,
        user_id,
        analysis_id,
        model,
        len(vector),
        vector,
        document,
    )
    return embedding_id
