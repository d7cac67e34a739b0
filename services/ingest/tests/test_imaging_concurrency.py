"""The worker calls process_image from several threads at once (asyncio.to_thread)."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

from collections_devtools import hostile_images as hostile
from collections_ingest.imaging import ImageRejected, process_image

THREADS = 4
ROUNDS = 8


def _outcome(data: bytes) -> str:
    try:
        return process_image(data).mime_type
    except ImageRejected as rejected:
        return rejected.code


def test_concurrent_calls_give_the_same_answers_and_leave_warning_filters_alone() -> None:
    """Threads mixing good files and bombs get the sequential answers; filters are restored."""
    inputs = {
        "jpeg": hostile.jpeg(800, 600),
        "bomb": hostile.png_bomb(10_000, 10_000),  # the range where Pillow only warns
        "huge-bomb": hostile.jpeg_declaring(65_000, 65_000),
        "exif": hostile.jpeg(64, 48, exif=hostile.exif_block(orientation=6, padding=20_000)),
        "truncated": hostile.truncated(hostile.jpeg(400, 300)),
    }
    expected = {name: _outcome(data) for name, data in inputs.items()}
    filters_before = list(warnings.filters)
    names = list(inputs) * ROUNDS

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(lambda name: (name, _outcome(inputs[name])), names))

    assert [(name, expected[name]) for name in names] == outcomes
    assert filters_before == warnings.filters
