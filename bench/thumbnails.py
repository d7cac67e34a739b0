"""Thumbnailing 12 MP JPEGs on 2 cores: our pipeline against naive Pillow, in the same run.

* Throughput: N generated photo-like 4000x3000 JPEGs (3-5 MB each), a pool of 2 processes.
  ``ours`` is `process_image` (DCT-scaled decode, both derivatives, EXIF, sha256); ``naive``
  decodes at full size, then ``thumbnail()`` + encode for both derivatives. Each runs ROUNDS
  times, alternating, and each figure's best round counts (the machine may be shared). Besides
  wall-clock img/s it reports per-image CPU time and what that gives on 2 otherwise idle cores,
  a figure other processes on a shared machine distort far less.
* Peak RSS, each in a fresh process: refusing a 50k x 50k PNG bomb, and processing the largest
  image the default limit accepts (a 7000x7000 RGBA PNG, 49 Mpx), which bounds a worker's RSS:
  about 8.5 bytes per allowed pixel per image in flight (RGBA decode plus Pillow's premultiplied
  copy for resizing), so ~410 MiB at the default 50 Mpx.
* The 3000-frame GIF: our time (first frame only) against decoding every frame.

Run ``python -m bench thumbnails``.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from PIL import Image, ImageSequence

from collections_devtools import hostile_images
from collections_ingest.imaging import PREVIEW_EDGE, THUMBNAIL_EDGE, process_image

N_IMAGES = 24  # 6 generated scenes x 4 flips
WORKERS = 2
ROUNDS = 3
SIZE = (4000, 3000)
TARGET_IMAGES_PER_S = 15.0
TARGET_RATIO = 3.0
BOMB_RSS_BOUND_MIB = 16  # growth of peak RSS while refusing the bomb, over a warmed-up process
MAX_IMAGE_RSS_BOUND_MIB = 1024  # peak RSS growth for the largest image the default limit accepts
_FLIPS = (None, Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM)
_VARIANTS = (*_FLIPS, Image.Transpose.ROTATE_180)
_NAIVE_DERIVATIVES = ((PREVIEW_EDGE, "JPEG", 85), (THUMBNAIL_EDGE, "WEBP", 80))

_RSS_PROBE = """
import json, resource, sys
from pathlib import Path
from collections_ingest.imaging import ImageRejected, process_image
from collections_devtools.hostile_images import jpeg
process_image(jpeg(64, 48))  # load every plugin first: only the file's own cost is measured
data = Path(sys.argv[1]).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    outcome = process_image(data).mime_type
except ImageRejected as rejected:
    outcome = rejected.code
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "before_kib": before, "peak_kib": after}))
"""


def run() -> dict[str, Any]:
    """Generate the inputs, measure everything, print the tables, return the headline numbers."""
    load_average = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="bench-thumbnails-") as tmp:
        folder = Path(tmp)
        with ProcessPoolExecutor(WORKERS, mp_context=get_context("spawn")) as pool:
            paths = _generate(pool, folder)
            ours, naive = _compare(pool, paths)
        bomb = _peak_rss(folder / "bomb.png", hostile_images.png_bomb())
        largest = _peak_rss(folder / "largest.png", _largest_allowed_png())
    results = {
        "load_average": load_average,
        "ours": ours,
        "naive": naive,
        "ratio": round(ours["images_per_s"] / naive["images_per_s"], 2),
        "cpu_ratio": round(ours["cpu_images_per_s"] / naive["cpu_images_per_s"], 2),
        "bomb_rss": bomb,
        "largest_image_rss": largest,
        "gif_3000_frames": _gif_timing(),
    }
    _print_report(results)
    return results


def _generate(pool: ProcessPoolExecutor, folder: Path) -> list[str]:
    jobs = [(str(folder), seed) for seed in range(N_IMAGES // len(_VARIANTS))]
    return [path for paths in pool.map(_write_scene, jobs) for path in paths]


def _write_scene(job: tuple[str, int]) -> list[str]:
    """One photo-like scene saved as 4 JPEGs (flipped), so 24 files cost 6 generations."""
    folder, seed = job
    scene = hostile_images.photo_like(*SIZE, seed=seed)
    paths = []
    for index, variant in enumerate(_VARIANTS):
        image = scene if variant is None else scene.transpose(variant)
        path = Path(folder) / f"scene{seed}-{index}.jpg"
        image.save(path, "JPEG", quality=90)
        paths.append(str(path))
    return paths


def _compare(pool: ProcessPoolExecutor, paths: list[str]) -> tuple[dict[str, float], ...]:
    list(pool.map(_ours, paths[: 2 * WORKERS]))  # warm up: imports, plugin init, page cache
    list(pool.map(_naive, paths[: 2 * WORKERS]))
    rounds: dict[str, list[dict[str, float]]] = {"ours": [], "naive": []}
    for _ in range(ROUNDS):
        for name, worker in (("ours", _ours), ("naive", _naive)):
            rounds[name].append(_throughput(pool, worker, paths))
    return _best(rounds["ours"]), _best(rounds["naive"])


def _best(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Each figure at its best round: other load on the machine only ever makes things slower."""
    return {
        "images_per_s": max(r["images_per_s"] for r in rounds),
        "p50_ms": min(r["p50_ms"] for r in rounds),
        "cpu_p50_ms": min(r["cpu_p50_ms"] for r in rounds),
        "cpu_images_per_s": max(r["cpu_images_per_s"] for r in rounds),
    }


def _throughput(
    pool: ProcessPoolExecutor, worker: Callable[[str], tuple[float, float]], paths: list[str]
) -> dict[str, float]:
    """Wall-clock images/s of the pool, and per-image wall and CPU milliseconds."""
    started = time.perf_counter()
    timings = list(pool.map(worker, paths))
    elapsed = time.perf_counter() - started
    cpu_ms = [cpu for _, cpu in timings]
    return {
        "images_per_s": round(len(paths) / elapsed, 2),
        "p50_ms": round(statistics.median(wall for wall, _ in timings), 1),
        "cpu_p50_ms": round(statistics.median(cpu_ms), 1),
        # what WORKERS idle cores would do: immune to other load on a shared machine
        "cpu_images_per_s": round(WORKERS * 1000 / statistics.mean(cpu_ms), 2),
    }


def _ours(path: str) -> tuple[float, float]:
    """(wall ms, CPU ms) of `process_image` on one file."""
    data = Path(path).read_bytes()
    with _Stopwatch() as watch:
        result = process_image(data)
    if result.derivatives["preview"].width != PREVIEW_EDGE:
        msg = f"unexpected preview size for {path}"
        raise AssertionError(msg)
    return watch.wall_ms, watch.cpu_ms


def _naive(path: str) -> tuple[float, float]:
    """Full decode, then Pillow's ``thumbnail()`` (no draft: already loaded) for each derivative."""
    data = Path(path).read_bytes()
    with _Stopwatch() as watch, Image.open(io.BytesIO(data)) as image:
        image.load()
        for edge, pillow_format, quality in _NAIVE_DERIVATIVES:
            derivative = image.copy()
            derivative.thumbnail((edge, edge))
            derivative.save(io.BytesIO(), pillow_format, quality=quality)
    return watch.wall_ms, watch.cpu_ms


class _Stopwatch:
    """Wall-clock and process CPU time of a block, in milliseconds."""

    wall_ms = cpu_ms = 0.0

    def __enter__(self) -> _Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall_ms = (time.perf_counter() - self._wall) * 1000
        self.cpu_ms = (time.process_time() - self._cpu) * 1000


def _largest_allowed_png(side: int = 7000) -> bytes:
    """A 7000x7000 RGBA PNG (49 Mpx, just under the default limit), compressed row by row."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + side * 4)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = side.to_bytes(4, "big") * 2 + bytes((8, 6, 0, 0, 0))
    chunks = [(b"IHDR", header), (b"IDAT", body), (b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
        for kind, data in chunks
    )


def _peak_rss(path: Path, data: bytes) -> dict[str, Any]:
    """Peak RSS of processing ``data`` in a fresh interpreter, and its growth over warm-up."""
    path.write_bytes(data)
    output = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    probe = json.loads(output.stdout)
    return {
        "outcome": probe["outcome"],
        "file_bytes": len(data),
        "peak_mib": round(probe["peak_kib"] / 1024, 1),
        "growth_mib": round((probe["peak_kib"] - probe["before_kib"]) / 1024, 1),
    }


def _gif_timing() -> dict[str, float]:
    data = hostile_images.animated_gif(frames=3000)
    ours = min(_timed(lambda: process_image(data)) for _ in range(5))

    def every_frame() -> None:
        with Image.open(io.BytesIO(data)) as image:
            for frame in ImageSequence.Iterator(image):
                frame.load()

    return {"ours_ms": round(ours, 1), "all_frames_ms": round(_timed(every_frame), 1)}


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _print_report(results: dict[str, Any]) -> None:
    ours, naive = results["ours"], results["naive"]
    print(f"{N_IMAGES} JPEGs {SIZE[0]}x{SIZE[1]}, {WORKERS} worker processes, best of {ROUNDS}")
    print(f"load average before the run: {results['load_average']} on {os.cpu_count()} cores")
    print(f"{'':8}{'img/s':>8}{'ms p50':>8}{'CPU ms p50':>12}{'img/s on idle cores':>21}")
    for name, stats in (("ours", ours), ("naive", naive)):
        print(
            f"{name:8}{stats['images_per_s']:>8.1f}{stats['p50_ms']:>8.1f}"
            f"{stats['cpu_p50_ms']:>12.1f}{stats['cpu_images_per_s']:>21.1f}"
        )
    for basis, speed, ratio in (
        ("measured", ours["images_per_s"], results["ratio"]),
        ("from CPU time", ours["cpu_images_per_s"], results["cpu_ratio"]),
    ):
        print(
            f"{basis:>13}: {speed:.1f} img/s (target ≥ {TARGET_IMAGES_PER_S}) "
            f"{_verdict(speed >= TARGET_IMAGES_PER_S)}; ours/naive {ratio:.2f}x "
            f"(target ≥ {TARGET_RATIO}x) {_verdict(ratio >= TARGET_RATIO)}"
        )
    for label, key, bound in (
        ("bomb 50000x50000 PNG", "bomb_rss", BOMB_RSS_BOUND_MIB),
        ("largest allowed, 7000x7000 RGBA PNG", "largest_image_rss", MAX_IMAGE_RSS_BOUND_MIB),
    ):
        probe = results[key]
        verdict = _verdict(probe["growth_mib"] <= bound)
        print(
            f"{label}: {probe['outcome']}, peak RSS {probe['peak_mib']} MiB, growth "
            f"{probe['growth_mib']} MiB (bound {bound} MiB) {verdict}"
        )
    gif = results["gif_3000_frames"]
    print(
        f"3000-frame GIF: ours {gif['ours_ms']} ms; decoding every frame {gif['all_frames_ms']} ms"
    )


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"
