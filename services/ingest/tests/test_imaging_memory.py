"""Resource bounds: a decompression bomb is refused without its memory ever being allocated."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Each bomb is decoded in a fresh interpreter, whose peak memory is measured.
pytestmark = pytest.mark.integration

# Peak RSS growth allowed while refusing a bomb, over a process that already processed a small
# image. Decoding the 50k x 50k PNG would need 2.5 GB; parsing its header needs a few KiB.
BOMB_RSS_GROWTH_LIMIT_MIB = 16

_PROBE = """
import json, resource, sys
from collections_ingest.imaging import ImageRejected, process_image
from collections_devtools import hostile_images as hostile
bomb = getattr(hostile, sys.argv[1])(*map(int, sys.argv[2:]))
process_image(hostile.jpeg(64, 48))  # plugins loaded: measure only what the bomb costs
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    process_image(bomb)
    code = None
except ImageRejected as rejected:
    code = rejected.code
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": code, "growth_kib": after - before}))
"""


@pytest.mark.parametrize(
    "bomb",
    [("png_bomb", 50_000, 50_000), ("jpeg_declaring", 65_000, 65_000), ("png_bomb", 7_100, 7_100)],
    ids=["png-50k", "jpeg-65k", "png-just-over-limit"],
)
def test_bomb_is_refused_in_bounded_memory(bomb: tuple[str | int, ...]) -> None:
    """In a fresh process, refusing a bomb raises peak RSS by less than the stated bound."""
    output = subprocess.run(
        [sys.executable, "-c", _PROBE, *map(str, bomb)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    probe = json.loads(output.stdout)

    assert "image_too_large" == probe["code"]
    assert probe["growth_kib"] < BOMB_RSS_GROWTH_LIMIT_MIB * 1024, probe
