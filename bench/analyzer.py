"""The offline analyzer: OCR engines side by side, screenshot cues, the fields read from text,
tag hit rate on the golden photos, and seconds per image, against today's configuration.

Screenshots are drawn here (``collections_devtools.testing.screenshots``: phone-sized, several
fonts and sizes, outlined and shadowed text over photos); nothing comes from outside. Per OCR
engine and text size: character error rate (edit distance of each drawn line to the closest line
read, over the drawn characters) and word recall (drawn words found among the words read). The
whole analyzer runs twice in the same process: as configured before this change (Tesseract, no
ImageNet classifier) and as shipped. Run ``python -m bench analyzer``; 2 cores are shared, so the
load average is printed beside the timings and only ratios within one run compare.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import statistics
import time
from collections import defaultdict
from typing import Any

import msgspec
from PIL import Image
from rapidfuzz.distance import Levenshtein

from collections_analyzer.local.classifier import SceneClassifier
from collections_analyzer.local.colors import dominant_colors
from collections_analyzer.local.describe import VisualCues, describe
from collections_analyzer.local.objects import ObjectTagger
from collections_analyzer.local.ocr import OcrEngine, TextLine
from collections_analyzer.local.screenshot import screenshot_cues, text_facts
from collections_analyzer.providers.base import ImageInput
from collections_analyzer.providers.local import LocalProvider, build_local, ocr_engine
from collections_devtools.testing.golden import (
    GOLDEN,
    caption_hit_rate,
    hit_rate,
    term_precision,
)
from collections_devtools.testing.screenshots import SIZES, Screenshot, draw_screenshot

SCREENSHOTS = int(os.environ.get("BENCH_ANALYZER_SCREENSHOTS", "12"))
_WORD = re.compile(r"[\w@#$€£¥₩₫.,:]+")


def _words(text: str) -> list[str]:
    return [word.strip(".,:").lower() for word in _WORD.findall(text) if word.strip(".,:")]


def score_ocr(shot: Screenshot, lines: list[TextLine]) -> dict[str, tuple[int, int, int, int]]:
    """Per size: (edit distance, drawn characters, words found, drawn words)."""
    read = [line.text for line in lines]
    found = set(_words(" ".join(read)))
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for drawn in shot.lines:
        distance = min((Levenshtein.distance(drawn.text, text) for text in read), default=None)
        total = totals[drawn.size]
        total[0] += min(distance if distance is not None else len(drawn.text), len(drawn.text))
        total[1] += len(drawn.text)
        words = _words(drawn.text)
        total[2] += sum(word in found for word in words)
        total[3] += len(words)
    return {size: (t[0], t[1], t[2], t[3]) for size, t in totals.items()}


def _image(shot: Screenshot) -> Image.Image:
    return Image.open(io.BytesIO(shot.jpeg())).convert("RGB")


def ocr_table(shots: list[Screenshot], engines: dict[str, OcrEngine]) -> dict[str, Any]:
    """CER and word recall per engine and size, seconds per screenshot."""
    result: dict[str, Any] = {}
    for name, engine in engines.items():
        engine.read(_image(shots[0]))  # load models outside the timing
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        seconds = []
        for shot in shots:
            image = _image(shot)
            started = time.perf_counter()
            lines = engine.read(image)
            seconds.append(time.perf_counter() - started)
            for size, values in score_ocr(shot, lines).items():
                sums[size] = [a + b for a, b in zip(sums[size], values, strict=True)]
        result[name] = {
            size: {"CER": round(s[0] / s[1], 3), "word recall": round(s[2] / s[3], 3)}
            for size, s in sorted(sums.items(), key=lambda pair: list(SIZES).index(pair[0]))
        }
        result[name]["s/image"] = round(statistics.mean(seconds), 2)
    return result


def _golden_rows() -> list[dict[str, Any]]:
    lines = (GOLDEN / "captions.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def cue_table(shots: list[Screenshot], engine: OcrEngine) -> dict[str, Any]:
    """Screenshot detection on drawn screenshots and golden photos; fields read from text."""
    detected = []
    facts_hits: dict[str, list[bool]] = defaultdict(list)
    for shot in shots:
        image = _image(shot)
        lines = engine.read(image)
        cues = screenshot_cues(image, lines, camera="")
        detected.append(cues.is_screenshot)
        facts = text_facts(lines)
        drawn = shot.text
        facts_hits["app named"].append(shot.app in (cues.app, "notes"))
        if "@" in drawn:
            facts_hits["poster"].append(bool(facts.poster) and facts.poster in drawn.lower())
        tags = {t.lower() for t in re.findall(r"#\w+", drawn)}
        facts_hits["hashtags"].append(tags <= set(facts.hashtags))
        prices = re.findall(r"(?:MX\$|[$€£¥₫])[\d,.]+\d", drawn)
        facts_hits["prices verbatim"].append(set(prices) <= set(facts.prices))
    photos = []
    for row in _golden_rows() if (GOLDEN / "captions.jsonl").exists() else []:
        with Image.open(GOLDEN / row["file"]) as opened:
            image = opened.convert("RGB")
        photos.append(screenshot_cues(image, engine.read(image), camera="").is_screenshot)
    return {
        "screenshots detected": round(sum(detected) / len(detected), 3),
        "photos taken for screenshots": round(sum(photos) / len(photos), 3) if photos else None,
        **{name: round(sum(hits) / len(hits), 3) for name, hits in facts_hits.items()},
    }


async def tag_table() -> dict[str, Any]:
    """Tag hit rate on the golden photos: COCO objects alone, and with ImageNet labels kept at
    several probability floors (the analysis' tags and objects against the five captions)."""
    if not (GOLDEN / "captions.jsonl").exists():
        return {}
    tagger, classifier = ObjectTagger(), SceneClassifier(min_score=0.05)
    rows, cues = _golden_rows(), []
    try:
        for row in rows:
            path = GOLDEN / row["file"]
            with Image.open(path) as opened:
                photo = opened.convert("RGB")
            cues.append(
                VisualCues(
                    detections=await tagger.detect(path.read_bytes()),
                    labels=classifier.classify(photo),
                    colors=dominant_colors(photo),
                )
            )
    finally:
        await tagger.aclose()
    result: dict[str, Any] = {}
    for name, floor in (("objects only (before)", 2.0), ("labels >= 0.15", 0.15),
                        ("labels >= 0.25", 0.25), ("labels >= 0.40", 0.40)):  # fmt: skip
        results = []
        for cue, row in zip(cues, rows, strict=True):
            kept = [label for label in cue.labels if label.score >= floor]
            described = describe(msgspec.structs.replace(cue, labels=kept))
            terms = {*described["tags"], *described["objects"]}  # type: ignore[misc]
            results.append((terms, row["captions"]))
        result[name] = {
            "hit rate (images)": round(hit_rate(results), 3),
            "hit rate (captions)": round(caption_hit_rate(results), 3),
            "term precision": round(term_precision(results), 3),
            "terms per image": round(statistics.mean(len(t) for t, _ in results), 1),
        }
    return result


async def _analyze_all(
    provider: LocalProvider, images: list[ImageInput]
) -> tuple[list[Any], float]:
    results, started = [], time.perf_counter()
    for image in images:
        results.append(await provider.analyze(image))
    return results, (time.perf_counter() - started) / len(images)


def _inputs(shots: list[Screenshot]) -> tuple[list[ImageInput], list[ImageInput]]:
    photos = []
    for row in _golden_rows() if (GOLDEN / "captions.jsonl").exists() else []:
        path = GOLDEN / row["file"]
        with Image.open(path) as opened:
            width, height = opened.size
        photos.append(ImageInput(data=path.read_bytes(), width=width, height=height))
    screens = [ImageInput(data=s.jpeg(), width=724, height=1568) for s in shots]
    return photos, screens


async def analyzer_table(shots: list[Screenshot]) -> dict[str, Any]:
    """Seconds per image, photos and screenshots, today's configuration against the new one."""
    photos, screens = _inputs(shots)
    configurations = {
        "before (tesseract, no classifier)": LocalProvider(tagger=ObjectTagger()),
        "after (as shipped)": build_local(tagger=ObjectTagger(), classifier=SceneClassifier()),
    }
    result: dict[str, Any] = {}
    for name, provider in configurations.items():
        try:
            await provider.analyze(screens[0])  # start the tagger and load models first
            _, photo_s = await _analyze_all(provider, photos) if photos else ([], 0.0)
            shot_results, shot_s = await _analyze_all(provider, screens)
        finally:
            await provider.aclose()
        categories = [r.analysis.category for r in shot_results]
        result[name] = {
            "s/photo": round(photo_s, 2),
            "s/screenshot": round(shot_s, 2),
            "screenshots categorised": round(categories.count("screenshots") / len(screens), 3),
        }
    return result


def run() -> dict[str, Any]:
    """Print the tables; return the headline numbers."""
    load = os.getloadavg()
    shots = [draw_screenshot(seed) for seed in range(SCREENSHOTS)]
    engines = {name: ocr_engine(name) for name in ("tesseract", "rapidocr", "both")}
    print(f"{len(shots)} drawn screenshots; load average at start {load[0]:.1f}")
    ocr = ocr_table(shots, engines)
    print("\n| engine | text size | CER | word recall |\n|---|---|---|---|")
    for name, sizes in ocr.items():
        for size, scores in sizes.items():
            if size != "s/image":
                print(f"| {name} | {size} | {scores['CER']} | {scores['word recall']} |")
    print("\n| engine | s/screenshot |\n|---|---|")
    for name, sizes in ocr.items():
        print(f"| {name} | {sizes['s/image']} |")
    cues = cue_table(shots, engines["rapidocr"])
    print("\nscreenshot cues and text fields (rapidocr lines):", json.dumps(cues))
    tags = asyncio.run(tag_table())
    print("\n| golden photos | hit rate (images) | hit rate (captions) | term precision | terms |")
    print("|---|---|---|---|---|")
    for name, row in tags.items():
        print(
            f"| {name} | {row['hit rate (images)']} | {row['hit rate (captions)']} | "
            f"{row['term precision']} | {row['terms per image']} |"
        )
    whole = asyncio.run(analyzer_table(shots))
    print("\n| analyzer | s/photo | s/screenshot | screenshots categorised |\n|---|---|---|---|")
    for name, row in whole.items():
        print(
            f"| {name} | {row['s/photo']} | {row['s/screenshot']} | "
            f"{row['screenshots categorised']} |"
        )
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return {"ocr": ocr, "cues": cues, "tags": tags, "analyzer": whole, "load": load[0]}
