"""Reading a collections-local library: what is imported, what is reported, what is refused."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from collections_cli.errors import CliError
from collections_cli.local_library import read_library
from collections_devtools.testing.images import jpeg
from collections_devtools.testing.local_library import SEED_ANALYSIS, make_library


def test_items_carry_their_latest_analysis_and_origin(tmp_path: Path) -> None:
    """The newest version is taken; provider, model, ids and times travel as source facts."""
    old = json.dumps({"summary": "old"})
    folder = make_library(
        tmp_path,
        [{"id": "a1", "image": jpeg(seed=1), "analyses": [old, json.dumps(SEED_ANALYSIS)]}],
    )
    items, problems = read_library(folder)
    assert [] == problems
    (item,) = items
    assert SEED_ANALYSIS["headline"] == (item.analysis or {})["headline"]
    assert {
        "system": "collections-local",
        "item_id": "a1",
        "analysis_id": "a1-a2",
        "provider": "anthropic",
        "model": "claude-sonnet-4",
        "analysis_created_at": "2024-03-06T08:00:00+00:00",
        "item_created_at": "2024-03-05T10:20:30+00:00",
    } == item.facts
    assert ("IMG_a1.jpg", "image/jpeg") == (item.filename, item.mime)


def test_image_paths_resolve_relative_absolute_or_by_file_name(tmp_path: Path) -> None:
    """file_path relative to the parent, absolute, or wrong (then images/<filename>) all work."""
    folder = make_library(
        tmp_path,
        [
            {"id": "rel", "image": jpeg(seed=2)},
            {"id": "abs", "image": jpeg(seed=3)},
            {"id": "moved", "image": jpeg(seed=4), "file_path": "/nowhere/moved.jpg"},
        ],
    )
    connection = sqlite3.connect(folder / "collections.db")
    connection.execute(
        "UPDATE items SET file_path = ? WHERE id = 'abs'", (str(folder / "images" / "abs.jpg"),)
    )
    connection.commit()
    connection.close()
    items, problems = read_library(folder)
    assert [] == problems
    assert {"rel", "abs", "moved"} == {item.source_id for item in items}


def test_bad_items_are_reported_one_by_one(tmp_path: Path) -> None:
    """A missing image, a non-image and malformed analysis JSON are problems of their items."""
    folder = make_library(
        tmp_path,
        [
            {"id": "good", "image": jpeg(seed=5), "analyses": [json.dumps(SEED_ANALYSIS)]},
            {"id": "gone"},
            {"id": "text", "image": b"just some text"},
            {"id": "broken", "image": jpeg(seed=6), "analyses": ["{not json"]},
            {"id": "list", "image": jpeg(seed=7), "analyses": ["[1, 2]"]},
        ],
    )
    items, problems = read_library(folder)
    assert ["good"] == [item.source_id for item in items]
    reasons = {problem.source_id: problem.reason for problem in problems}
    assert "missing" in reasons["gone"]
    assert "not an image" in reasons["text"]
    assert "not valid JSON" in reasons["broken"]
    assert "not a JSON object" in reasons["list"]


def test_a_folder_that_is_not_a_library_is_one_error(tmp_path: Path) -> None:
    """No database, or a database of another schema, stops with a message naming the problem."""
    with pytest.raises(CliError, match=r"no collections\.db"):
        read_library(tmp_path)
    (tmp_path / "collections.db").write_bytes(b"")
    sqlite3.connect(tmp_path / "collections.db").executescript("CREATE TABLE items (id TEXT);")
    with pytest.raises(CliError, match="lacks"):
        read_library(tmp_path)
    (tmp_path / "collections.db").write_bytes(b"this is not sqlite at all, not even close" * 20)
    with pytest.raises(CliError, match="SQLite"):
        read_library(tmp_path)
