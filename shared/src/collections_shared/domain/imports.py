"""An analysis that comes with an upload from another system (a migration), and where it came from.

The gateway keeps it on the item (``items.imported_analysis``) until ingest has made the
derivatives; ingest then stores it as an analysis version with provider ``import`` instead of
running the vision analyzer. The other system's provider and model, its ids and timestamps and the
JSON exactly as it had it are kept with the version (``data.raw``), so nothing of the source is
lost and the mapping can be redone later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec

from collections_shared.domain.analysis import Analysis

FORMAT = "import-v1"
"""Marks the envelope in ``items.imported_analysis`` (older rows hold a bare analysis)."""

_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_CLOCK_SKEW = timedelta(days=1)

Name = Annotated[str, msgspec.Meta(max_length=128)]


class ImportSource(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Facts about the imported item in the system it comes from."""

    system: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    """The other system, e.g. ``collections-local``."""
    item_id: Name = ""
    analysis_id: Name = ""
    provider: Name = ""
    """Who wrote the analysis there (e.g. ``anthropic``)."""
    model: Name = ""
    analysis_created_at: datetime | None = None
    item_created_at: datetime | None = None
    """When the item was added there; the imported item keeps it as its upload time."""


class InvalidImportSourceError(ValueError):
    """The source facts are unusable (a time in the future, before 1990, without a zone)."""


def check_source(source: ImportSource, now: datetime | None = None) -> ImportSource:
    """``source`` if its timestamps are plausible; raises :class:`InvalidImportSourceError`."""
    latest = (now or datetime.now(UTC)) + _CLOCK_SKEW
    for name in ("analysis_created_at", "item_created_at"):
        value: datetime | None = getattr(source, name)
        if value is None:
            continue
        if value.tzinfo is None:
            msg = f"{name} needs a time zone (e.g. a trailing Z for UTC)"
            raise InvalidImportSourceError(msg)
        if not _EARLIEST <= value <= latest:
            msg = f"{name} {value.isoformat()} is not between 1990 and now"
            raise InvalidImportSourceError(msg)
    return source


class ImportedAnalysis(msgspec.Struct, frozen=True, kw_only=True):
    """What the item carries until ingest stores it."""

    format: str = FORMAT
    analysis: Analysis
    """Already normalised by the gateway (ingest normalises it again: it is still input)."""
    source: ImportSource | None = None
    original: Any = None
    """The analysis JSON as the other system had it."""


def envelope(imported: ImportedAnalysis) -> dict[str, Any]:
    """The JSON stored on the item."""
    stored: dict[str, Any] = msgspec.to_builtins(imported)
    return stored


def read_envelope(stored: Any) -> tuple[Any, ImportSource | None, Any]:
    """(analysis JSON, source, original) of an item's stored import, either format."""
    if isinstance(stored, dict) and stored.get("format") == FORMAT:
        source = stored.get("source")
        parsed = msgspec.convert(source, ImportSource) if source is not None else None
        return stored.get("analysis"), parsed, stored.get("original")
    return stored, None, None
