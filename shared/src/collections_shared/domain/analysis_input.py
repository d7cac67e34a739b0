"""How untrusted input becomes an :class:`Analysis`: a model's tool call, an import, an edit.

Input is accepted in the flat v1 or v2 shape, or in the seeds' nested shape (``media_metadata``
and ``image_details``), field by field. A field of the wrong type (a number where a list of
strings belongs) rejects the whole input with a reason naming the field: that is a malformed
answer, not one to guess at. Lengths over a cap are cut, not rejected, and duplicates dropped.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, cast

import msgspec

from collections_shared.domain.analysis import (
    CATEGORIES,
    MAX_COLORS,
    MAX_DESCRIPTION,
    MAX_HANDLE,
    MAX_HEADLINE,
    MAX_LINE,
    MAX_LIST_ITEMS,
    MAX_PHRASE,
    MAX_SENTENCE,
    MAX_SETTING,
    MAX_SHORT_LIST,
    MAX_SUMMARY,
    MAX_TERM,
    MAX_TEXT,
    MAX_TEXT_LINES,
    Analysis,
    Category,
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_HANDLE = re.compile(r"^@?([A-Za-z0-9_][A-Za-z0-9_.]{0,29})$")
_HASHTAG = re.compile(r"^#*([^\W_][\w]*)$")

Strings = list[str] | str | None
"""A list field may also come as one comma-separated string (some importers write that)."""


class _SeedMedia(msgspec.Struct, kw_only=True):
    original_poster: str | None = None
    tagged_accounts: Strings = None
    location_tags: Strings = None
    audio_source: str | None = None
    hashtags: Strings = None


class _SeedDetails(msgspec.Struct, kw_only=True):
    extracted_text: Strings = None
    objects: Strings = None
    themes: Strings = None
    emotions: Strings = None
    vibes: Strings = None
    visual_hierarchy: Strings = None
    key_interest: str | None = None
    likely_source: str | None = None


class _Input(msgspec.Struct, kw_only=True):
    """Every accepted key with the types it may have; unknown keys are ignored."""

    category: str | None = None
    headline: str | None = None
    summary: str | None = None
    description: str | None = None
    subcategories: Strings = None
    tags: Strings = None
    objects: Strings = None
    text: str | None = None
    text_lines: Strings = None
    colors: Strings = None
    setting: str | None = None
    places: Strings = None
    poster: str | None = None
    accounts: Strings = None
    hashtags: Strings = None
    audio: str | None = None
    themes: Strings = None
    emotions: Strings = None
    vibes: Strings = None
    visual_hierarchy: Strings = None
    key_interest: str | None = None
    likely_source: str | None = None
    media_metadata: _SeedMedia | None = None
    image_details: _SeedDetails | None = None


class InvalidAnalysisError(ValueError):
    """The input cannot be read as an analysis; the message says why."""


def clean_text(value: Any, limit: int) -> str:
    """A string without control/bidi characters or surrounding space, at most ``limit`` long."""
    if not isinstance(value, str):
        return ""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", value)).strip()
    return text[:limit].rstrip()


def clean_terms(
    value: Any, limit: int, *, lowercase: bool = True, length: int = MAX_TERM
) -> list[str]:
    """Unique short terms, in order, from a list (or a comma-separated string)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        return []
    terms: list[str] = []
    for item in items:
        term = " ".join(clean_text(item, length).split())
        term = term.lower() if lowercase else term
        if term and term not in terms:
            terms.append(term)
        if len(terms) == limit:
            break
    return terms


def clean_lines(value: Any) -> list[str]:
    """Visible text as lines: one string is split at newlines, blank lines dropped."""
    items = value.splitlines() if isinstance(value, str) else value
    if not isinstance(items, list):
        return []
    lines = [" ".join(clean_text(item, MAX_LINE).split()) for item in items]
    return [line for line in lines if line][:MAX_TEXT_LINES]


def clean_handle(value: Any) -> str:
    """``@name`` for something shaped like a handle (lowercased), else the name as written."""
    text = " ".join(clean_text(value, MAX_HANDLE).split())
    match = _HANDLE.match(text)
    return f"@{match.group(1).lower()}" if match else text


def clean_handles(value: Any, limit: int = MAX_LIST_ITEMS) -> list[str]:
    handles = [clean_handle(item) for item in clean_terms(value, limit, lowercase=False)]
    return list(dict.fromkeys(handle for handle in handles if handle))


def clean_hashtags(value: Any, limit: int = MAX_LIST_ITEMS) -> list[str]:
    """``#tag`` for each hashtag (lowercased, no spaces); anything else is dropped."""
    tags = []
    for term in clean_terms(value, limit):
        match = _HASHTAG.match(term.replace(" ", ""))
        if match:
            tags.append(f"#{match.group(1)}")
    return list(dict.fromkeys(tags))


def join_lines(lines: list[str]) -> str:
    """The ``text`` form of visible text lines, capped at a line boundary."""
    text = "\n".join(lines)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT].rsplit("\n", 1)[0]


def normalize_analysis(data: Any) -> Analysis:
    """Turn untrusted JSON-ish data into a valid :class:`Analysis`.

    Raises:
        InvalidAnalysisError: ``data`` is not an object, a field has the wrong type, or nothing
            describable is left.
    """
    if not isinstance(data, dict):
        msg = "an analysis must be a JSON object"
        raise InvalidAnalysisError(msg)
    try:
        given = msgspec.convert(data, _Input)
    except msgspec.ValidationError as error:
        raise InvalidAnalysisError(str(error)) from error
    analysis = _build(given)
    if not (
        analysis.headline
        or analysis.summary
        or analysis.description
        or analysis.tags
        or analysis.objects
        or analysis.text
    ):
        msg = "the analysis has no headline, summary, description, tags, objects or text"
        raise InvalidAnalysisError(msg)
    return analysis


def _first(*values: Any) -> Any:
    """The first value given (not None): the flat field wins over the seeds' nested one."""
    return next((value for value in values if value is not None), None)


def _build(given: _Input) -> Analysis:
    media = given.media_metadata or _SeedMedia()
    details = given.image_details or _SeedDetails()
    lines = clean_lines(_first(given.text_lines, details.extracted_text))
    text = clean_text(given.text, MAX_TEXT)
    if not lines and text:
        lines = clean_lines(text)
    category = clean_text(given.category, MAX_TERM).lower()
    return Analysis(
        category=_category(category),
        headline=" ".join(clean_text(given.headline, MAX_HEADLINE).split()),
        summary=clean_text(given.summary, MAX_SUMMARY),
        description=clean_text(given.description, MAX_DESCRIPTION),
        subcategories=clean_terms(given.subcategories, MAX_SHORT_LIST),
        tags=clean_terms(given.tags, MAX_LIST_ITEMS),
        objects=clean_terms(_first(given.objects, details.objects), MAX_LIST_ITEMS),
        text=text or join_lines(lines),
        text_lines=lines,
        colors=clean_terms(given.colors, MAX_COLORS),
        setting=clean_text(given.setting, MAX_SETTING),
        places=clean_terms(
            _first(given.places, media.location_tags),
            MAX_SHORT_LIST,
            lowercase=False,
            length=MAX_PHRASE,
        ),
        poster=clean_handle(_first(given.poster, media.original_poster)),
        accounts=clean_handles(_first(given.accounts, media.tagged_accounts)),
        hashtags=clean_hashtags(_first(given.hashtags, media.hashtags)),
        audio=clean_text(_first(given.audio, media.audio_source), MAX_SENTENCE),
        themes=clean_terms(_first(given.themes, details.themes), MAX_SHORT_LIST),
        emotions=clean_terms(_first(given.emotions, details.emotions), MAX_SHORT_LIST),
        vibes=clean_terms(_first(given.vibes, details.vibes), MAX_SHORT_LIST),
        visual_hierarchy=clean_terms(
            _first(given.visual_hierarchy, details.visual_hierarchy),
            MAX_SHORT_LIST,
            lowercase=False,
            length=MAX_PHRASE,
        ),
        key_interest=clean_text(_first(given.key_interest, details.key_interest), MAX_SENTENCE),
        likely_source=" ".join(
            clean_text(_first(given.likely_source, details.likely_source), MAX_TERM).lower().split()
        ),
    )


def _category(value: str) -> Category:
    return cast("Category", value) if value in CATEGORIES else "other"
