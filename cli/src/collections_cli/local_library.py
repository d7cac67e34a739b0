"""Reading a collections-local library: ``collections.db`` (SQLite) beside ``images/``.

The library is opened read-only and never changed. Each item with its latest analysis becomes a
:class:`SourceItem`; what cannot be used (a missing or unreadable image, an analysis that is not a
JSON object) is a :class:`SourceProblem` for that item alone, never an error for the whole run.
A folder that is not such a library at all (no database, other tables) is one clear error.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collections_cli.errors import CliError
from collections_cli.files import sniff

SYSTEM = "collections-local"
DATABASE = "collections.db"
REQUIRED = {
    "items": {"id", "filename", "original_filename", "file_path", "created_at"},
    "analyses": {
        "id",
        "item_id",
        "version",
        "category",
        "summary",
        "raw_response",
        "provider_used",
        "model_used",
        "created_at",
    },
}


@dataclass(frozen=True)
class SourceItem:
    source_id: str
    path: Path
    filename: str
    mime: str
    created_at: str | None
    analysis: dict[str, Any] | None
    """The seeds' analysis JSON (``raw_response``), or None if the item has none."""
    facts: dict[str, Any]
    """Where it comes from: the ``analysis_source`` part of the upload."""


@dataclass(frozen=True)
class SourceProblem:
    source_id: str
    reason: str


def _timestamp(value: Any) -> str | None:
    """SQLite's ``YYYY-MM-DD HH:MM:SS`` (UTC, as SQLite's own clock writes it) as ISO 8601."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()


def _open(folder: Path) -> sqlite3.Connection:
    database = folder / DATABASE
    if not folder.is_dir():
        raise CliError(f"no such folder: {folder}", exit_code=2)
    if not database.is_file():
        raise CliError(f"{folder} is not a collections-local library: no {DATABASE}", exit_code=2)
    try:
        connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
        connection.row_factory = sqlite3.Row
        for table, columns in REQUIRED.items():
            found = {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}
            if not found:
                raise CliError(f"{database} has no {table} table: not a collections-local library")
            if missing := sorted(columns - found):
                raise CliError(f"{database}: {table} lacks {', '.join(missing)} (another schema?)")
    except sqlite3.DatabaseError as error:
        raise CliError(f"{database} cannot be read as SQLite: {error}") from error
    return connection


def _image_path(folder: Path, row: sqlite3.Row) -> Path | None:
    """``file_path`` (relative to the library's parent, or absolute), else ``images/<filename>``."""
    candidates: list[Path] = []
    if row["file_path"]:
        named = Path(str(row["file_path"]))
        candidates += [named] if named.is_absolute() else [folder.parent / named, folder / named]
    if row["filename"]:
        candidates.append(folder / "images" / Path(str(row["filename"])).name)
    return next((path for path in candidates if path.is_file()), None)


def _analysis(row: sqlite3.Row) -> dict[str, Any] | None:
    """The item's latest analysis JSON with the table's category and summary as defaults."""
    if row["raw_response"] is None and row["analysis_id"] is None:
        return None
    try:
        data = json.loads(row["raw_response"] or "{}")
    except (TypeError, ValueError) as error:
        raise ValueError(f"its analysis is not valid JSON ({error})") from error
    if not isinstance(data, dict):
        msg = "its analysis is not a JSON object"
        raise ValueError(msg)
    for column in ("category", "summary"):
        if row[column] and not data.get(column):
            data[column] = row[column]
    return data


def _facts(row: sqlite3.Row) -> dict[str, Any]:
    facts = {
        "system": SYSTEM,
        "item_id": str(row["id"])[:128],
        "analysis_id": str(row["analysis_id"] or "")[:128],
        "provider": str(row["provider_used"] or "")[:128],
        "model": str(row["model_used"] or "")[:128],
        "analysis_created_at": _timestamp(row["analysis_created_at"]),
        "item_created_at": _timestamp(row["created_at"]),
    }
    return {key: value for key, value in facts.items() if value}


_ROWS = """
SELECT i.id, i.filename, i.original_filename, i.file_path, i.created_at,
       a.id AS analysis_id, a.category, a.summary, a.raw_response, a.provider_used, a.model_used,
       a.created_at AS analysis_created_at
  FROM items i
  LEFT JOIN analyses a ON a.id = (
        SELECT latest.id FROM analyses latest WHERE latest.item_id = i.id
         ORDER BY latest.version DESC, latest.created_at DESC LIMIT 1)
 ORDER BY i.created_at, i.id
"""


def read_library(folder: Path) -> tuple[list[SourceItem], list[SourceProblem]]:
    """Every item of the library that can be imported, and what is wrong with the others."""
    connection = _open(folder)
    items: list[SourceItem] = []
    problems: list[SourceProblem] = []
    try:
        for row in connection.execute(_ROWS):
            source_id = str(row["id"])
            path = _image_path(folder, row)
            try:
                mime = sniff(path) if path is not None else None
                analysis = _analysis(row)
            except (OSError, ValueError) as error:
                problems.append(SourceProblem(source_id, str(error)))
                continue
            if path is None or mime is None:
                reason = "its image is missing" if path is None else f"{path.name} is not an image"
                problems.append(SourceProblem(source_id, reason))
                continue
            name = str(row["original_filename"] or row["filename"] or path.name)
            items.append(
                SourceItem(source_id, path, name, mime, row["created_at"], analysis, _facts(row))
            )
    except sqlite3.DatabaseError as error:
        raise CliError(f"reading {folder / DATABASE} failed: {error}") from error
    finally:
        connection.close()
    return items, problems
