"""The golden photo set (../shared/golden beside the repository): read in place, never copied."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[4]
GOLDEN = Path(os.environ.get("COLLECTIONS_GOLDEN_DIR", _REPO.parent / "shared" / "golden"))


def golden_dir() -> Path:
    """The golden set's folder, or skip the test with a clear reason."""
    if not (GOLDEN / "captions.jsonl").exists():
        pytest.skip(f"golden set not found at {GOLDEN} (set COLLECTIONS_GOLDEN_DIR)")
    return GOLDEN
