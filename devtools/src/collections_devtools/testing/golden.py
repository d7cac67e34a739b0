"""The golden photo set (../shared/golden beside the repository): read in place, never copied."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[4]
GOLDEN = Path(os.environ.get("COLLECTIONS_GOLDEN_DIR", _REPO.parent / "shared" / "golden"))


def golden_dir() -> Path:
    """The golden set's folder, or skip the test with a clear reason."""
    if not (GOLDEN / "captions.jsonl").exists():
        pytest.skip(f"golden set not found at {GOLDEN} (set COLLECTIONS_GOLDEN_DIR)")
    return GOLDEN


# Words a caption uses for what the detector calls a class (lenient matching, as in the study).
SYNONYMS = {
    "person": {
        "man", "men", "woman", "women", "people", "person", "boy", "girl", "child", "children",
        "kid", "kids", "guy", "lady", "player", "skier", "surfer", "skateboarder", "rider",
        "snowboarder", "someone", "couple", "crowd", "family", "baby", "adult", "pitcher",
        "batter", "catcher",
    },
    "people": {"man", "men", "woman", "women", "person", "boy", "girl", "child", "children"},
    "dining table": {"table"}, "potted plant": {"plant"}, "sports ball": {"ball"},
    "cell phone": {"phone", "cellphone"}, "motorcycle": {"motorbike", "bike"},
    "bicycle": {"bike"}, "couch": {"sofa"}, "tv": {"television"},
    "airplane": {"plane", "jet", "aircraft", "airliner"}, "car": {"vehicle"},
    "truck": {"vehicle"}, "bus": {"vehicle"}, "cup": {"mug"}, "handbag": {"purse", "bag"},
    "suitcase": {"luggage", "baggage", "bag"}, "backpack": {"bag"},
    "teddy bear": {"bear", "teddy"}, "hot dog": {"hotdog"}, "donut": {"doughnut"},
    "laptop": {"computer"}, "sheep": {"lamb"}, "cow": {"cattle", "bull"}, "boat": {"ship"},
}  # fmt: skip


def caption_words(captions: list[str]) -> set[str]:
    """Caption words, with naive singulars so "dogs" matches "dog"."""
    words: set[str] = set()
    for word in re.findall(r"[a-z]+", " ".join(captions).lower()):
        words |= {word, word.removesuffix("s"), word.removesuffix("es")}
    return words


def term_matches(term: str, words: set[str], text: str) -> bool:
    """A tag matches if it, its last word or one of its synonyms is in the captions."""
    head = term.rsplit(maxsplit=1)[-1]
    return term in text or head in words or bool(SYNONYMS.get(term, set()) & words)


def hit_rate(results: list[tuple[set[str], list[str]]]) -> float:
    """Share of images with at least one term found in their captions."""
    hits = 0
    for terms, captions in results:
        words, text = caption_words(captions), " ".join(captions).lower()
        hits += any(term_matches(term, words, text) for term in terms)
    return hits / len(results)


def caption_hit_rate(results: list[tuple[set[str], list[str]]]) -> float:
    """Share of single captions (of all images) that contain at least one of the image's terms."""
    hits = total = 0
    for terms, captions in results:
        for caption in captions:
            words, text = caption_words([caption]), caption.lower()
            hits += any(term_matches(term, words, text) for term in terms)
            total += 1
    return hits / total if total else 0.0


def term_precision(results: list[tuple[set[str], list[str]]]) -> float:
    """Share of all terms given that appear in their image's captions."""
    found = given = 0
    for terms, captions in results:
        words, text = caption_words(captions), " ".join(captions).lower()
        found += sum(term_matches(term, words, text) for term in terms)
        given += len(terms)
    return found / given if given else 0.0
