"""SQL for analysis versions: shared by the analyzer and by ingest (imported analyses).

Versions are numbered per item. The event that caused an analysis is recorded with it
(``source_event_id``, unique per item), so a redelivered event finds its analysis instead of
creating another version.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from collections_shared.db import Connection
from collections_shared.domain.analysis import Analysis, Provenance


class StoredAnalysis(msgspec.Struct, frozen=True):
    id: uuid.UUID
    version: int
    created: bool
    """False when this event's analysis already existed (a redelivery)."""


async def find_by_source_event(
    connection: Connection, item_id: uuid.UUID, source_event_id: uuid.UUID
) -> StoredAnalysis | None:
    row = await connection.fetchrow(
        "SELECT id, version FROM analyses WHERE item_id = $1 AND source_event_id = $2",
        item_id,
        source_event_id,
    )
    return StoredAnalysis(row["id"], row["version"], created=False) if row else None


async def insert_analysis(
    connection: Connection,
    *,
    user_id: str,
    item_id: uuid.UUID,
    source_event_id: uuid.UUID,
    analysis: Analysis,
    provenance: Provenance,
) -> StoredAnalysis:
    """Add the next version (or return the one this event already made) and make it the latest."""
    # Serialises concurrent writers of one item (released at commit), so the check below and
    # the version number cannot race.
    await connection.execute("SELECT 1 FROM items WHERE id = $1 FOR UPDATE", item_id)
    existing = await find_by_source_event(connection, item_id, source_event_id)
    if existing is not None:
        return existing
    version = await connection.fetchval(
        "SELECT coalesce(max(version), 0) + 1 FROM analyses WHERE item_id = $1", item_id
    )
    analysis_id = uuid.uuid4()
    await connection.execute(
        """INSERT INTO analyses (id, item_id, user_id, version, source_event_id, provider, model,
                                 prompt_version, category, summary, description, tags, objects,
                                 visible_text, colors, setting, data, input_tokens,
                                 output_tokens, latency_ms)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                   $18, $19, $20)""",
        analysis_id, item_id, user_id, version, source_event_id,
        provenance.provider, provenance.model, provenance.prompt_version,
        analysis.category, analysis.summary, analysis.description, analysis.tags,
        analysis.objects, analysis.text, analysis.colors, analysis.setting,
        {"analysis": msgspec.to_builtins(analysis), "raw": provenance.raw},
        provenance.input_tokens, provenance.output_tokens, provenance.latency_ms,
    )  # fmt: skip
    await connection.execute(
        """UPDATE items SET latest_analysis_id = $2, category = $3, updated_at = now()
            WHERE id = $1""",
        item_id,
        analysis_id,
        analysis.category,
    )
    return StoredAnalysis(analysis_id, version, created=True)


ANALYSIS_FIELDS = "category, summary, description, tags, objects, visible_text, colors, setting"
"""The columns :func:`analysis_from_row` reads (select them, or ``a.*``, in the query)."""


def analysis_from_row(row: Any) -> Analysis:
    """The :class:`Analysis` stored in a row of ``analyses``."""
    return Analysis(
        category=row["category"],
        summary=row["summary"],
        description=row["description"],
        tags=list(row["tags"]),
        objects=list(row["objects"]),
        text=row["visible_text"],
        colors=list(row["colors"]),
        setting=row["setting"],
    )
