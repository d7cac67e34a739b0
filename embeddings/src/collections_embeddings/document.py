"""The text that is embedded for an item: its analysis, in a fixed order, capped.

The recipe was chosen by measurement (docs/embeddings.md, ``python -m bench embeddings``): the
summary, headline, places and tags first, then the description and the rest, each labelled. The
order matters because the local model reads only its first 256 tokens (about 1,000 characters):
the densest fields come first so that a long description or a screenful of visible text cannot
push them out. A v1 analysis (no headline, places or accounts) gives the same document as before
schema v2.
"""

from __future__ import annotations

import re
from datetime import datetime

from collections_shared.domain.analysis import Analysis

MAX_DOCUMENT_CHARS = 2000
"""About 500 tokens: all of it fits Voyage's context; MiniLM reads the first half."""
MAX_DESCRIPTION_CHARS = 800
MAX_TEXT_CHARS = 300
"""Visible text can be a whole page (a screenshot): keep enough to match on, not to dominate."""
MAX_FILENAME_CHARS = 80

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
# Camera and phone prefixes (IMG_1234.JPG, DSC01234, PXL_2024...) say nothing about the content.
_CAMERA_WORDS = frozenset(
    {"img", "image", "dsc", "dscn", "dscf", "dcim", "pxl", "mvimg", "photo", "pic", "wp", "vid"}
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_WORD = re.compile(r"[^\W\d_]+")


ORDER = (
    "summary", "headline", "places", "tags", "description", "objects", "setting", "text",
    "key_interest", "poster", "accounts", "hashtags", "themes", "audio", "source", "colors",
    "category", "file", "taken",
)  # fmt: skip
"""The parts of the document, in order (chosen by measurement, docs/embeddings.md)."""


def embedding_document(
    analysis: Analysis, *, filename: str = "", taken_at: datetime | None = None
) -> str:
    """The text embedded for an item, deterministic for the same inputs.

    Args:
        analysis: the item's latest analysis.
        filename: the name it was uploaded with; its words count only if they are not a camera's
            numbering (``IMG_1234.jpg`` adds nothing, ``grand-canyon-trip.jpg`` adds three).
        taken_at: when the photo was taken (EXIF), rendered as month and year.
    """
    parts = document_parts(analysis, filename=filename, taken_at=taken_at)
    return _clip(" ".join(parts[name] for name in ORDER if parts[name]), MAX_DOCUMENT_CHARS)


def document_parts(
    analysis: Analysis, *, filename: str = "", taken_at: datetime | None = None
) -> dict[str, str]:
    """Each labelled part of the document by name ("" when its field is empty)."""
    return {
        "summary": _sentence(analysis.summary),
        "headline": _sentence(analysis.headline),
        "places": _terms("Places", analysis.places),
        "tags": _terms("Tags", analysis.tags),
        "description": _sentence(_clip(analysis.description, MAX_DESCRIPTION_CHARS)),
        "objects": _terms("Objects", analysis.objects),
        "setting": _labelled("Setting", analysis.setting),
        "text": _labelled("Text in the image", _clip(analysis.text, MAX_TEXT_CHARS)),
        "key_interest": _labelled("Key point", analysis.key_interest),
        "poster": _labelled("Posted by", analysis.poster),
        "accounts": _terms("Accounts", analysis.accounts),
        "hashtags": _terms("Hashtags", analysis.hashtags),
        "themes": _terms("Themes", [*analysis.themes, *analysis.vibes, *analysis.emotions]),
        "audio": _labelled("Audio", analysis.audio),
        "source": _labelled("Source", analysis.likely_source),
        "colors": _terms("Colors", analysis.colors),
        "category": _labelled(
            "Category", "" if analysis.category == "other" else analysis.category
        ),
        "file": _labelled("File", filename_words(filename)),
        "taken": _labelled(
            "Taken", f"{_MONTHS[taken_at.month - 1]} {taken_at.year}" if taken_at else ""
        ),
    }


def filename_words(filename: str) -> str:
    """The descriptive words of a file name: no extension, digits or camera prefixes."""
    stem = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    words = _WORD.findall(_CAMEL.sub(" ", stem))
    kept = [word.lower() for word in words if word.lower() not in _CAMERA_WORDS and len(word) > 1]
    return _clip(" ".join(kept), MAX_FILENAME_CHARS)


def _clip(text: str, limit: int) -> str:
    """``text`` whitespace-normalized and cut at a word boundary to at most ``limit`` chars."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if not text or text[-1] in ".!?" else f"{text}."


def _labelled(label: str, value: str) -> str:
    return f"{label}: {_sentence(value)}" if value.strip() else ""


def _terms(label: str, terms: list[str]) -> str:
    return _labelled(label, ", ".join(term for term in terms if term.strip()))
