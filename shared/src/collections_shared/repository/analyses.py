"""SQL for analysis versions: shared by the analyzer, ingest (imported analyses) and the gateway
(the owner's edits and restores).

Versions are numbered per item. The event or request that caused an analysis is recorded with it
(``source_event_id``, unique per item), so a redelivered event finds its analysis instead of
creating another version. Each field of :class:`Analysis` is a column (``text`` is
``visible_text``), so every service reads them with :data:`ANALYSIS_COLUMNS` and
:func:`analysis_from_row`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from collections_shared.db import Connection
from collections_shared.domain.analysis import (
    ANALYSIS_FIELDS,
    Analysis,
    Provenance,
    ProviderFailure,
)

_COLUMN_OF = {"text": "visible_text"}
COLUMNS: tuple[str, ...] = tuple(_COLUMN_OF.get(name, name) for name in ANALYSIS_FIELDS)
"""The ``analyses`` column of each :class:`Analysis` field, in field order."""
ANALYSIS_COLUMNS = ", ".join(COLUMNS)
"""The columns :func:`analysis_from_row` reads (select them, or ``a.*``, in the query)."""


def analysis_columns(alias: str) -> str:
    """:data:`ANALYSIS_COLUMNS` qualified by a table alias, for queries that join ``items``."""
    return ", ".join(f"{alias}.{column}" for column in COLUMNS)


VERSION_COLUMNS = f"""id, item_id, version, provider, model, prompt_version, created_at,
    input_tokens, output_tokens, latency_ms, user_fields, restored_from, fallback,
    {ANALYSIS_COLUMNS}"""
"""What :func:`version_from_row` reads."""
_PROVENANCE_COLUMNS = (
    "provider, model, prompt_version, data, input_tokens, output_tokens, latency_ms, "
    "user_fields, restored_from, fallback"
)


class StoredAnalysis(msgspec.Struct, frozen=True):
    id: uuid.UUID
    version: int
    created: bool
    """False when this event's analysis already existed (a redelivery)."""


class AnalysisVersion(msgspec.Struct, frozen=True, kw_only=True):
    """One stored version with its provenance."""

    id: uuid.UUID
    item_id: uuid.UUID
    version: int
    provider: str
    model: str
    prompt_version: str
    created_at: datetime
    analysis: Analysis
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: int | None = None
    user_fields: list[str] = msgspec.field(default_factory=list)
    restored_from: int | None = None
    fallback: list[ProviderFailure] = msgspec.field(default_factory=list)


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
    values = [getattr(analysis, name) for name in ANALYSIS_FIELDS]
    data = {"schema": 2, "analysis": msgspec.to_builtins(analysis), "raw": provenance.raw}
    fixed = [analysis_id, item_id, user_id, version, source_event_id]
    extra = [
        provenance.provider, provenance.model, provenance.prompt_version, data,
        provenance.input_tokens, provenance.output_tokens, provenance.latency_ms,
        provenance.user_fields, provenance.restored_from,
        msgspec.to_builtins(provenance.fallback),
    ]  # fmt: skip
    params = ", ".join(f"${n}" for n in range(1, len(fixed) + len(extra) + len(values) + 1))
    await connection.execute(
        f"""INSERT INTO analyses (id, item_id, user_id, version, source_event_id,
                                  {_PROVENANCE_COLUMNS}, {ANALYSIS_COLUMNS})
            VALUES ({params})""",
        *fixed,
        *extra,
        *values,
    )
    await connection.execute(
        """UPDATE items SET latest_analysis_id = $2, category = $3, updated_at = now()
            WHERE id = $1""",
        item_id,
        analysis_id,
        analysis.category,
    )
    return StoredAnalysis(analysis_id, version, created=True)


def analysis_from_row(row: Any) -> Analysis:
    """The :class:`Analysis` stored in a row of ``analyses``."""
    values = {name: row[column] for name, column in zip(ANALYSIS_FIELDS, COLUMNS, strict=True)}
    lists = {name: list(value) for name, value in values.items() if isinstance(value, list)}
    analysis = Analysis(**{**values, **lists})
    if not analysis.text_lines and analysis.text:
        # A v1 analysis stored its visible text joined only.
        analysis = msgspec.structs.replace(analysis, text_lines=analysis.text.splitlines())
    return analysis


def version_from_row(row: Any) -> AnalysisVersion:
    """An :class:`AnalysisVersion` from a row selected with :data:`VERSION_COLUMNS`."""
    return AnalysisVersion(
        id=row["id"],
        item_id=row["item_id"],
        version=row["version"],
        provider=row["provider"],
        model=row["model"],
        prompt_version=row["prompt_version"],
        created_at=row["created_at"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        latency_ms=row["latency_ms"],
        user_fields=list(row["user_fields"]),
        restored_from=row["restored_from"],
        fallback=msgspec.convert(row["fallback"], list[ProviderFailure]),
        analysis=analysis_from_row(row),
    )


async def latest_version(
    connection: Connection, item_id: uuid.UUID, *, for_update: bool = False
) -> AnalysisVersion | None:
    """The item's current analysis (the one ``items.latest_analysis_id`` points at).

    ``for_update`` locks the item first, so no other version can be added until the
    transaction ends: for a new version derived from this one (an edit, a re-analysis that
    keeps the owner's fields).
    """
    if for_update:
        await connection.execute("SELECT 1 FROM items WHERE id = $1 FOR UPDATE", item_id)
    row = await connection.fetchrow(
        f"""SELECT {VERSION_COLUMNS} FROM analyses
             WHERE id = (SELECT latest_analysis_id FROM items WHERE id = $1)""",
        item_id,
    )
    return version_from_row(row) if row else None


async def get_version(
    connection: Connection, item_id: uuid.UUID, version: int
) -> AnalysisVersion | None:
    row = await connection.fetchrow(
        f"SELECT {VERSION_COLUMNS} FROM analyses WHERE item_id = $1 AND version = $2",
        item_id,
        version,
    )
    return version_from_row(row) if row else None


async def list_versions(connection: Connection, item_id: uuid.UUID) -> list[AnalysisVersion]:
    """Every version of the item, newest first."""
    rows = await connection.fetch(
        f"SELECT {VERSION_COLUMNS} FROM analyses WHERE item_id = $1 ORDER BY version DESC",
        item_id,
    )
    return [version_from_row(row) for row in rows]
