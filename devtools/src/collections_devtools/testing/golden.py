"""The golden photo set (../shared/golden beside the repository): read in place, never copied."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

_REPO = Path(__file__).resolve().parents[4]
GOLDEN = Path(os.environ.get("COLLECTIONS_GOLDEN_DIR", _REPO.parent / "shared" / "golden"))


def golden_dir() -> Path:
    """The golden set's folder, or skip the test with a clear reason."""
    if not (GOLDEN / "captions.jsonl").exists():
        pytest.skip(f"golden set not found at {GOLDEN} (set COLLECTIONS_GOLDEN_DIR)")
    return GOLDEN


def golden_rows() -> list[dict[str, Any]]:
    """Each photo's ``id``, ``file`` (relative to the folder) and five ``captions``."""
    folder = golden_dir()
    lines = (folder / "captions.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]
