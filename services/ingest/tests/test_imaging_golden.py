"""A sanity pass over the real photos of the shared golden set (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collections_ingest.imaging import PREVIEW_EDGE, THUMBNAIL_EDGE, process_image

GOLDEN_IMAGES = Path(__file__).resolve().parents[4] / "shared" / "golden" / "images"
GOLDEN_COUNT = 52


def _golden_paths() -> list[Path]:
    if not GOLDEN_IMAGES.is_dir():
        return []
    return sorted(path for path in GOLDEN_IMAGES.iterdir() if path.is_file())


@pytest.mark.skipif(
    not GOLDEN_IMAGES.is_dir(), reason=f"golden images not found at {GOLDEN_IMAGES}"
)
def test_golden_set_is_complete() -> None:
    """The golden folder holds the 52 photos the pass below relies on."""
    assert GOLDEN_COUNT == len(_golden_paths())


@pytest.mark.skipif(
    not GOLDEN_IMAGES.is_dir(), reason=f"golden images not found at {GOLDEN_IMAGES}"
)
@pytest.mark.parametrize("path", _golden_paths(), ids=lambda path: path.name)
def test_golden_photo_processes(path: Path) -> None:
    """Every real photo is accepted and gets derivatives within their size bounds."""
    result = process_image(path.read_bytes())
    preview, thumbnail = result.derivatives["preview"], result.derivatives["thumbnail"]

    assert min(PREVIEW_EDGE, max(result.width, result.height)) == max(preview.width, preview.height)
    assert min(THUMBNAIL_EDGE, max(result.width, result.height)) == max(
        thumbnail.width, thumbnail.height
    )
    assert (result.width >= result.height) == (preview.width >= preview.height)
