"""The Node object tagger client (real Node when installed) and the local analyzer on golden."""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from PIL import Image

from collections_analyzer.local.describe import VisualCues, describe
from collections_analyzer.local.objects import DEFAULT_TAGGER_DIR, ObjectTagger
from collections_analyzer.providers.base import ImageInput
from collections_analyzer.providers.local import LocalProvider
from collections_devtools.testing.golden import GOLDEN, hit_rate
from collections_shared.domain.analysis_input import normalize_analysis

# The tagger is a Node process (or a stand-in process for the failure cases).
pytestmark = pytest.mark.integration

KITE_PHOTO = GOLDEN / "images" / "coco_000000024027.jpg"
NODE = shutil.which("node")
TAGGER_INSTALLED = NODE is not None and (DEFAULT_TAGGER_DIR / "node_modules").is_dir()
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")
needs_tagger = pytest.mark.skipif(
    not TAGGER_INSTALLED, reason="node or the tagger's modules (tagger/install.sh) are missing"
)
needs_golden = pytest.mark.skipif(not GOLDEN.is_dir(), reason="no golden photos on this machine")


def write_fake_tagger(directory: Path, body: str) -> Path:
    """A tagger directory whose tagger.js runs ``body`` and counts its own starts."""
    (directory / "node_modules" / "@vladmandic" / "human").mkdir(parents=True)
    starts = directory / "starts.log"
    script = f"require('fs').appendFileSync({json.dumps(str(starts))}, 'start\\n');\n{body}\n"
    (directory / "tagger.js").write_text(script)
    return starts


@pytest.fixture(name="tagger")
async def fx_tagger() -> AsyncIterator[ObjectTagger]:
    tagger = ObjectTagger()
    yield tagger
    await tagger.aclose()


@needs_tagger
@needs_golden
async def test_detects_coco_objects(tagger: ObjectTagger) -> None:
    """The kite photo gets a confident kite, and every label is a COCO class with a score."""
    found = await tagger.detect(KITE_PHOTO.read_bytes())

    assert "kite" == max(found, key=lambda d: d.score).label
    assert all(0.25 <= d.score <= 1 for d in found)


@needs_tagger
async def test_bad_image_costs_only_its_tags(tagger: ObjectTagger) -> None:
    """Bytes that are no JPEG get no tags, and the process keeps serving."""
    assert [] == await tagger.detect(b"definitely not a jpeg")
    assert tagger.available


@needs_tagger
@needs_golden
async def test_dead_tagger_is_restarted(tagger: ObjectTagger) -> None:
    """After the Node process dies, the next request starts a new one and gets its answer."""
    await tagger.detect(KITE_PHOTO.read_bytes())
    process = tagger._process
    assert process is not None
    process.kill()
    await process.wait()

    found = await tagger.detect(KITE_PHOTO.read_bytes())

    assert "kite" in {d.label for d in found}


async def test_missing_node_means_no_tags() -> None:
    """Without a node binary the tagger answers [] and says why, without raising."""
    tagger = ObjectTagger(node="node-that-does-not-exist")

    assert [] == await tagger.detect(b"jpeg")
    assert not tagger.available
    assert "not found on PATH" in tagger.missing_reason


async def test_missing_modules_mean_no_tags(tmp_path: Path) -> None:
    """A tagger directory without installed modules answers [] and points to install.sh."""
    (tmp_path / "tagger.js").write_text("// the real script, but nothing installed next to it\n")
    tagger = ObjectTagger(tmp_path)

    assert [] == await tagger.detect(b"jpeg")
    assert "tagger/install.sh" in tagger.missing_reason


@needs_node
async def test_hanging_tagger_times_out_and_restarts(tmp_path: Path) -> None:
    """A tagger that never answers is killed after the timeout and started again next time."""
    starts = write_fake_tagger(
        tmp_path, "console.log(JSON.stringify({ready: true})); setInterval(() => {}, 1000);"
    )
    tagger = ObjectTagger(tmp_path, request_timeout=0.5)
    try:
        first = await tagger.detect(b"jpeg")
        second = await tagger.detect(b"jpeg")
    finally:
        await tagger.aclose()

    assert ([], []) == (first, second)
    assert 2 == len(starts.read_text().splitlines())


@needs_node
async def test_tagger_that_cannot_start_is_left_alone(tmp_path: Path) -> None:
    """A tagger that crashes at start-up is not respawned for every image."""
    starts = write_fake_tagger(tmp_path, "process.exit(3);")
    tagger = ObjectTagger(tmp_path)
    try:
        results = [await tagger.detect(b"jpeg") for _ in range(3)]
    finally:
        await tagger.aclose()

    assert [[], [], []] == results
    assert 1 == len(starts.read_text().splitlines())


@pytest.mark.slow
@needs_golden
async def test_golden_tags_appear_in_captions(tagger: ObjectTagger) -> None:
    """On the golden photos, the local analysis's tags or objects show up in the captions; a
    floor is asserted only when the Node tagger runs (colours, OCR and faces alone are weak)."""
    provider = LocalProvider(tagger=tagger if TAGGER_INSTALLED else None)
    rows = [json.loads(line) for line in (GOLDEN / "captions.jsonl").read_text().splitlines()]
    with_tags, without_tags, latencies = [], [], []
    for row in rows:
        path = GOLDEN / row["file"]
        with Image.open(path) as opened:
            width, height = opened.size
        image = ImageInput(data=path.read_bytes(), width=width, height=height, filename=path.name)
        started = time.perf_counter()
        result = await provider.analyze(image)
        latencies.append((time.perf_counter() - started) * 1000)
        with_tags.append(({*result.analysis.tags, *result.analysis.objects}, row["captions"]))
        cues = msgspec.convert(result.raw["cues"], VisualCues)
        offline = normalize_analysis(describe(msgspec.structs.replace(cues, detections=[])))
        without_tags.append(({*offline.tags, *offline.objects}, row["captions"]))

    report = {
        "images": len(rows),
        "hit_rate_with_tagger": round(hit_rate(with_tags), 3) if TAGGER_INSTALLED else None,
        "hit_rate_without_tagger": round(hit_rate(without_tags), 3),
        "latency_ms_mean": round(statistics.mean(latencies)),
        "latency_ms_p50": round(statistics.median(latencies)),
    }
    print(f"\nlocal analyzer on golden: {report}")  # noqa: T201 - the numbers are the point
    if TAGGER_INSTALLED:
        assert hit_rate(with_tags) >= 0.6
