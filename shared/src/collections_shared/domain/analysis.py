"""The structured analysis of an image, and how untrusted input becomes one.

An analysis comes from a vision model (Claude), from the local offline analyzer, or from another
system (an import on upload). All three are untrusted: :func:`normalize_analysis` accepts loosely
shaped JSON, keeps only the known fields, caps every length, drops control characters, and maps an
unknown category to ``other``. What a model writes is data; it never changes what the system does.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import msgspec

CATEGORIES = (
    "people",
    "animals",
    "food",
    "nature",
    "landscape",
    "city",
    "architecture",
    "interior",
    "vehicles",
    "sports",
    "events",
    "art",
    "documents",
    "screenshots",
    "objects",
    "other",
)

MAX_SUMMARY = 300
MAX_DESCRIPTION = 2000
MAX_TEXT = 2000
MAX_SETTING = 120
MAX_LIST_ITEMS = 25
MAX_COLORS = 10
MAX_TERM = 48

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class Analysis(msgspec.Struct, frozen=True, kw_only=True):
    """What a vision model says about one image."""

    category: str = "other"
    """One of :data:`CATEGORIES`."""
    summary: str = ""
    """One sentence."""
    description: str = ""
    tags: list[str] = msgspec.field(default_factory=list)
    objects: list[str] = msgspec.field(default_factory=list)
    text: str = ""
    """Words visible in the image (OCR-like), verbatim."""
    colors: list[str] = msgspec.field(default_factory=list)
    setting: str = ""
    """Where it seems to be: ``indoor``, ``outdoor``, ``beach at sunset``, ..."""


class Provenance(msgspec.Struct, frozen=True, kw_only=True):
    """Who produced an analysis, with what, at what cost."""

    provider: str
    model: str
    prompt_version: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: int | None = None
    raw: dict[str, Any] = msgspec.field(default_factory=dict)


class InvalidAnalysisError(ValueError):
    """The input cannot be read as an analysis at all."""


def clean_text(value: Any, limit: int) -> str:
    """A string without control/bidi characters or surrounding space, at most ``limit`` long."""
    if not isinstance(value, str):
        return ""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", value)).strip()
    return text[:limit].rstrip()


def clean_terms(value: Any, limit: int, *, lowercase: bool = True) -> list[str]:
    """Unique short terms, in order, from a list (or a comma-separated string)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        return []
    terms: list[str] = []
    for item in items:
        term = " ".join(clean_text(item, MAX_TERM).split())
        term = term.lower() if lowercase else term
        if term and term not in terms:
            terms.append(term)
        if len(terms) == limit:
            break
    return terms


def normalize_analysis(data: Any) -> Analysis:
    """Turn untrusted JSON-ish data into a valid :class:`Analysis`.

    Raises:
        InvalidAnalysisError: if ``data`` is not an object or carries nothing describable.
    """
    if not isinstance(data, dict):
        msg = "an analysis must be a JSON object"
        raise InvalidAnalysisError(msg)
    category = clean_text(data.get("category"), MAX_TERM).lower()
    analysis = Analysis(
        category=category if category in CATEGORIES else "other",
        summary=clean_text(data.get("summary"), MAX_SUMMARY),
        description=clean_text(data.get("description"), MAX_DESCRIPTION),
        tags=clean_terms(data.get("tags"), MAX_LIST_ITEMS),
        objects=clean_terms(data.get("objects"), MAX_LIST_ITEMS),
        text=clean_text(data.get("text"), MAX_TEXT),
        colors=clean_terms(data.get("colors"), MAX_COLORS),
        setting=clean_text(data.get("setting"), MAX_SETTING),
    )
    if not (
        analysis.summary
        or analysis.description
        or analysis.tags
        or analysis.objects
        or analysis.text
    ):
        msg = "the analysis has no summary, description, tags, objects or text"
        raise InvalidAnalysisError(msg)
    return analysis


def analysis_json_schema() -> dict[str, Any]:
    """The JSON schema a vision model is asked to fill (the forced tool's input schema)."""
    return {
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "summary": {
                "type": "string",
                "description": "One sentence saying what the image shows.",
            },
            "description": {
                "type": "string",
                "description": "2-5 sentences: subjects, actions, setting, notable details.",
            },
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "description": "5-15 lowercase search keywords: subjects, activities, style, mood.",
            },
            "objects": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Distinct physical things visible, lowercase nouns.",
            },
            "text": {
                "type": "string",
                "description": "All words visible in the image, verbatim; empty if none.",
            },
            "colors": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Dominant colour names, most prominent first.",
            },
            "setting": {
                "type": "string",
                "description": "Where: indoor/outdoor and the kind of place.",
            },
        },
        "required": [
            "category",
            "summary",
            "description",
            "tags",
            "objects",
            "text",
            "colors",
            "setting",
        ],
    }
