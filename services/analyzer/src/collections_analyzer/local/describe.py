"""Turn offline cues into an analysis, deterministically: same cues, same words.

The cues are narrow (80 object classes, up to three ImageNet labels, OCR lines, screenshot cues,
colours, faces, EXIF, file name), so the text says what was detected rather than pretending to
understand the scene. Schema v2 fields are filled where a cue supports them: a screenshot's
headline, poster, accounts, hashtags and app; ``likely_source`` for photos with a camera.
"""

from __future__ import annotations

import math
from collections import defaultdict

import msgspec

from collections_analyzer.local.classifier import SceneLabel
from collections_analyzer.local.objects import Detection
from collections_analyzer.local.screenshot import ScreenshotCues, TextFacts
from collections_analyzer.local.vocabulary import (
    CLASS_CATEGORY,
    CLASS_TAGS,
    FILENAME_CATEGORY,
    INDOOR_CLASSES,
    IRREGULAR_PLURALS,
    OUTDOOR_CLASSES,
)
from collections_shared.domain.analysis import CATEGORIES

COUNT_MIN_SCORE = 0.3
COUNTED = frozenset(
    name
    for name, (category, _) in CLASS_CATEGORY.items()
    if category in ("people", "animals", "vehicles")
)
"""Classes worth counting in words ("three people"); "two dining tables" only reads oddly."""
"""Weaker duplicates of a class still make it a tag, but are not counted as more instances."""
MAX_OBJECTS_IN_SUMMARY = 3
DOCUMENT_WORDS = 12
_NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five"}


class VisualCues(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the local analyzer found, before it is put into words."""

    colors: list[str] = msgspec.field(default_factory=list)
    text: str = ""
    lines: list[str] = msgspec.field(default_factory=list)
    faces: int = 0
    detections: list[Detection] = msgspec.field(default_factory=list)
    labels: list[SceneLabel] = msgspec.field(default_factory=list)
    screenshot: ScreenshotCues | None = None
    facts: TextFacts = msgspec.field(default_factory=TextFacts)
    filename_words: list[str] = msgspec.field(default_factory=list)
    season: str = ""
    time_of_day: str = ""
    camera: str = ""


class ObjectCount(msgspec.Struct, frozen=True):
    label: str
    count: int
    score: float
    area: float


def count_objects(detections: list[Detection]) -> list[ObjectCount]:
    """One entry per class, best-scored first, with how many confident instances it has."""
    by_label: dict[str, list[Detection]] = defaultdict(list)
    for detection in detections:
        by_label[detection.label].append(detection)
    counts = [
        ObjectCount(
            label=label,
            count=max(1, sum(d.score >= COUNT_MIN_SCORE for d in found)) if label in COUNTED else 1,
            score=max(d.score for d in found),
            area=max(d.area for d in found),
        )
        for label, found in by_label.items()
    ]
    return sorted(counts, key=lambda c: (-c.score, c.label))


def _phrase(item: ObjectCount) -> str:
    if item.count == 1:
        if item.label in ("skis", "scissors"):
            return f"a pair of {item.label}"
        return f"{'an' if item.label[0] in 'aeiou' else 'a'} {item.label}"
    plural = IRREGULAR_PLURALS.get(item.label, f"{item.label}s")
    return f"{_NUMBERS.get(item.count, 'several')} {plural}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def choose_category(cues: VisualCues, objects: list[ObjectCount]) -> str:
    """The category with the most votes from objects, faces, text and file-name words."""
    votes: dict[str, float] = defaultdict(float)
    for item in objects:
        category, weight = CLASS_CATEGORY[item.label]
        votes[category] += weight * item.score * (0.5 + math.sqrt(item.area))
    for label in cues.labels:
        if label.category:
            votes[label.category] += label.score
    votes["people"] += 0.3 * min(cues.faces, 3)
    words = len(cues.text.split())
    if words >= DOCUMENT_WORDS:
        votes["documents"] += 1.0 + 0.02 * words
    for word in cues.filename_words:
        if word in FILENAME_CATEGORY:
            votes[FILENAME_CATEGORY[word]] += 0.25
    if cues.screenshot is not None and cues.screenshot.is_screenshot:
        return "screenshots"
    ranked = [(score, -CATEGORIES.index(name), name) for name, score in votes.items() if score > 0]
    return max(ranked)[2] if ranked else "other"


def choose_setting(cues: VisualCues, objects: list[ObjectCount]) -> str:
    """``indoor`` or ``outdoor`` when objects or file-name words say so, plus the time of day."""
    indoor = sum(item.score for item in objects if item.label in INDOOR_CLASSES)
    outdoor = sum(item.score for item in objects if item.label in OUTDOOR_CLASSES)
    outdoor += 0.3 * sum(
        FILENAME_CATEGORY.get(word) in ("landscape", "nature", "city")
        for word in cues.filename_words
    )
    place = "indoor" if indoor > outdoor else "outdoor" if outdoor > indoor else ""
    return ", ".join(part for part in (place, cues.time_of_day) if part)


def _summary(cues: VisualCues, objects: list[ObjectCount], category: str) -> str:
    subjects = [_phrase(item) for item in objects[:MAX_OBJECTS_IN_SUMMARY]]
    if not subjects and cues.faces:
        subjects = [_phrase(ObjectCount("person", cues.faces, 1.0, 0.0))]
    noun = {"documents": "document", "screenshots": "screenshot"}.get(category, "photo")
    if not subjects and cues.text:
        subjects = ["visible text"]
    sentence = f"A {noun} with {_join(subjects)}" if subjects else f"A {noun}"
    if cues.colors:
        sentence += f", mostly {_join(cues.colors[:2])}"
    when = _when(cues.season, cues.time_of_day)
    return f"{sentence}, {when}." if when else f"{sentence}."


def _when(season: str, time_of_day: str) -> str:
    if season and time_of_day:
        return f"taken on a {season} {time_of_day}"
    if time_of_day:
        return "taken at night" if time_of_day == "night" else f"taken in the {time_of_day}"
    return f"taken in {season}" if season else ""


def _description(cues: VisualCues, objects: list[ObjectCount]) -> str:
    sentences = []
    if objects:
        sentences.append(f"Detected objects: {_join([_phrase(item) for item in objects[:8]])}.")
    if cues.labels:
        sentences.append(f"It looks like: {_join([label.label for label in cues.labels])}.")
    if cues.faces:
        sentences.append(f"Faces visible: {cues.faces}.")
    if cues.colors:
        sentences.append(f"Dominant colours: {', '.join(cues.colors)}.")
    if cues.text:
        sentences.append(f"Visible text: \u201c{' / '.join(cues.text.splitlines())[:300]}\u201d.")
    when = _when(cues.season, cues.time_of_day) or ("taken" if cues.camera else "")
    if when:
        camera = f" with a {cues.camera}" if cues.camera else ""
        sentences.append(f"{when.capitalize()}{camera}.")
    if cues.filename_words:
        sentences.append(f"The file name mentions {_join(cues.filename_words)}.")
    sentences.append(
        "Described offline from object detection, scene classification, OCR and colour "
        "analysis; activities are not recognised."
    )
    return " ".join(sentences)


def _tags(cues: VisualCues, objects: list[ObjectCount], category: str, setting: str) -> list[str]:
    tags: list[str] = []
    for item in objects:
        tags += [item.label, *CLASS_TAGS.get(item.label, ())]
    for label in cues.labels:
        tags += label.tags
    if cues.faces and "person" not in tags:
        tags += ["person", "people"]
    if category != "other":
        tags.append(category)
    tags += [part for part in setting.split(", ") if part]
    tags += cues.filename_words
    tags += [cues.season] if cues.season else []
    tags += ["text"] if cues.text else []
    return list(dict.fromkeys(tags))


def _screenshot_fields(cues: VisualCues) -> dict[str, object]:
    """A screenshot's v2 fields from its text: what a reader of the screen would note."""
    facts, app = cues.facts, cues.screenshot.app if cues.screenshot else ""
    where = f"{'an' if app[:1] in 'aeiou' and app else 'a'} {app} " if app else "a "
    by = f" by {facts.poster}" if facts.poster else ""
    summary = f"A screenshot of {where}{'post' if app not in ('', 'notes') else 'screen'}{by}"
    summary += f": \u201c{facts.headline}\u201d." if facts.headline else "."
    if facts.prices:
        summary = f"{summary[:-1]}, prices {_join(facts.prices[:3])}."
    price_line = next((line for line in cues.lines if any(p in line for p in facts.prices)), "")
    return {
        "headline": facts.headline,
        "summary": summary,
        "subcategories": ["social post"] if facts.poster or facts.hashtags else [],
        "poster": facts.poster,
        "accounts": facts.accounts,
        "hashtags": facts.hashtags,
        "key_interest": price_line,
        "likely_source": app or "screenshot",
        "visual_hierarchy": [line for line in cues.lines if line == facts.headline][:1],
    }


def _headline(objects: list[ObjectCount], cues: VisualCues) -> str:
    subjects = [_phrase(item) for item in objects[:2]] or [label.label for label in cues.labels[:1]]
    return _join(subjects).capitalize() if subjects else ""


def describe(cues: VisualCues) -> dict[str, object]:
    """The analysis as JSON-ready data (it still goes through ``normalize_analysis``)."""
    if cues.screenshot is not None and cues.screenshot.is_screenshot:
        # ImageNet labels of a whole screen (interface, text, a cropped photo) are noise.
        cues = msgspec.structs.replace(cues, labels=[])
    objects = count_objects(cues.detections)
    category = choose_category(cues, objects)
    setting = choose_setting(cues, objects)
    labels = [item.label for item in objects]
    if cues.faces and "person" not in labels:
        labels.append("person")
    described: dict[str, object] = {
        "category": category,
        "headline": _headline(objects, cues),
        "summary": _summary(cues, objects, category),
        "description": _description(cues, objects),
        "tags": _tags(cues, objects, category, setting),
        "objects": labels,
        "text_lines": cues.lines,
        "text": cues.text,
        "colors": cues.colors,
        "setting": setting,
        "likely_source": "camera photo" if cues.camera else "",
    }
    if category == "screenshots":
        described |= {key: value for key, value in _screenshot_fields(cues).items() if value}
    return described
