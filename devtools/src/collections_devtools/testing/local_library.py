"""A collections-local library (seed 003's SQLite flavour) built on disk for import tests."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE items (id TEXT PRIMARY KEY, filename TEXT NOT NULL, original_filename TEXT,
    file_path TEXT NOT NULL, file_size INTEGER, mime_type TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE analyses (id TEXT PRIMARY KEY, item_id TEXT NOT NULL REFERENCES items(id),
    version INTEGER DEFAULT 1, category TEXT, summary TEXT, raw_response TEXT,
    provider_used TEXT, model_used TEXT, trace_id TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
"""

SEED_ANALYSIS: dict[str, Any] = {
    "category": "Food",
    "subcategories": ["ramen", "restaurants"],
    "headline": "Best ramen in Fukuoka",
    "summary": "A bowl of tonkotsu ramen.",
    "media_metadata": {
        "original_poster": "@noodlefan",
        "tagged_accounts": [],
        "location_tags": ["Fukuoka"],
        "audio_source": "",
        "hashtags": ["#ramen"],
    },
    "image_details": {
        "extracted_text": ["Ichiran", "¥980"],
        "objects": ["bowl", "chopsticks"],
        "themes": ["food"],
        "emotions": ["delight"],
        "vibes": ["cozy"],
        "visual_hierarchy": ["bowl"],
        "key_interest": "the ramen",
        "likely_source": "instagram",
    },
}


def make_library(root: Path, rows: list[dict[str, Any]]) -> Path:
    """A library folder ``root/data`` with ``collections.db`` and ``images/`` as rows say.

    A row: ``id``, optional ``image`` bytes (written under images/), ``file_path`` (default
    ``data/images/<id>.jpg``, relative to the library's parent), ``analyses`` (raw JSON texts,
    oldest first), ``created_at``.
    """
    folder = root / "data"
    (folder / "images").mkdir(parents=True)
    with closing(sqlite3.connect(folder / "collections.db")) as connection:
        _fill(connection, folder, rows)
    return folder


def _fill(connection: sqlite3.Connection, folder: Path, rows: list[dict[str, Any]]) -> None:
    connection.executescript(SCHEMA)
    for row in rows:
        name = f"{row['id']}.jpg"
        if row.get("image") is not None:
            (folder / "images" / name).write_bytes(row["image"])
        connection.execute(
            "INSERT INTO items (id, filename, original_filename, file_path, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                row["id"],
                name,
                row.get("original", f"IMG_{row['id']}.jpg"),
                row.get("file_path", f"data/images/{name}"),
                row.get("created_at", "2024-03-05 10:20:30"),
            ),
        )
        for version, raw in enumerate(row.get("analyses", []), 1):
            connection.execute(
                "INSERT INTO analyses (id, item_id, version, category, summary, raw_response,"
                " provider_used, model_used, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    f"{row['id']}-a{version}",
                    row["id"],
                    version,
                    "Food",
                    f"summary v{version}",
                    raw,
                    "anthropic",
                    "claude-sonnet-4",
                    "2024-03-06 08:00:00",
                ),
            )
    connection.commit()
