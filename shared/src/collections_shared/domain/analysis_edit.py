"""The owner's corrections of an analysis, and how they survive a later automatic analysis.

An edit names only the fields it changes. The result is a new version with provider ``user``
whose ``user_fields`` lists every field the owner has set so far; an automatic re-analysis
takes those fields from the version before it (:func:`keep_user_fields`) unless it was asked to
replace them. ``text`` and ``text_lines`` are one field for this purpose: each is derived from
the other.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from collections_shared.domain.analysis import (
    MAX_COLORS,
    MAX_DESCRIPTION,
    MAX_HEADLINE,
    MAX_LIST_ITEMS,
    MAX_SENTENCE,
    MAX_SETTING,
    MAX_SHORT_LIST,
    MAX_SUMMARY,
    MAX_TEXT,
    MAX_TEXT_LINES,
    Analysis,
    Category,
    Handle,
    Line,
    Phrase,
    Term,
)
from collections_shared.domain.analysis_input import normalize_analysis

_TEXT_PAIR = frozenset({"text", "text_lines"})


class AnalysisEdit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; a field left out keeps its value. Lists replace the whole list."""

    category: Category | UnsetType = UNSET
    headline: Annotated[str, msgspec.Meta(max_length=MAX_HEADLINE)] | UnsetType = UNSET
    summary: Annotated[str, msgspec.Meta(max_length=MAX_SUMMARY)] | UnsetType = UNSET
    description: Annotated[str, msgspec.Meta(max_length=MAX_DESCRIPTION)] | UnsetType = UNSET
    subcategories: Annotated[list[Term], msgspec.Meta(max_length=MAX_SHORT_LIST)] | UnsetType = (
        UNSET
    )
    tags: Annotated[list[Term], msgspec.Meta(max_length=MAX_LIST_ITEMS)] | UnsetType = UNSET
    objects: Annotated[list[Term], msgspec.Meta(max_length=MAX_LIST_ITEMS)] | UnsetType = UNSET
    text: Annotated[str, msgspec.Meta(max_length=MAX_TEXT)] | UnsetType = UNSET
    """The visible text; its lines become ``text_lines``."""
    text_lines: Annotated[list[Line], msgspec.Meta(max_length=MAX_TEXT_LINES)] | UnsetType = UNSET
    colors: Annotated[list[Term], msgspec.Meta(max_length=MAX_COLORS)] | UnsetType = UNSET
    setting: Annotated[str, msgspec.Meta(max_length=MAX_SETTING)] | UnsetType = UNSET
    places: Annotated[list[Phrase], msgspec.Meta(max_length=MAX_SHORT_LIST)] | UnsetType = UNSET
    poster: Handle | UnsetType = UNSET
    accounts: Annotated[list[Handle], msgspec.Meta(max_length=MAX_LIST_ITEMS)] | UnsetType = UNSET
    hashtags: Annotated[list[Term], msgspec.Meta(max_length=MAX_LIST_ITEMS)] | UnsetType = UNSET
    audio: Annotated[str, msgspec.Meta(max_length=MAX_SENTENCE)] | UnsetType = UNSET
    themes: Annotated[list[Term], msgspec.Meta(max_length=MAX_SHORT_LIST)] | UnsetType = UNSET
    emotions: Annotated[list[Term], msgspec.Meta(max_length=MAX_SHORT_LIST)] | UnsetType = UNSET
    vibes: Annotated[list[Term], msgspec.Meta(max_length=MAX_SHORT_LIST)] | UnsetType = UNSET
    visual_hierarchy: (
        Annotated[list[Phrase], msgspec.Meta(max_length=MAX_SHORT_LIST)] | UnsetType
    ) = UNSET
    key_interest: Annotated[str, msgspec.Meta(max_length=MAX_SENTENCE)] | UnsetType = UNSET
    likely_source: Term | UnsetType = UNSET

    def given(self) -> dict[str, Any]:
        """The fields this edit sets, by name."""
        return {
            name: value
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not UNSET
        }


class EmptyEditError(ValueError):
    """The edit changes nothing."""


def apply_edit(
    current: Analysis, edit: AnalysisEdit, user_fields: list[str]
) -> tuple[Analysis, list[str]]:
    """The analysis with ``edit`` applied, and the fields the owner has now set.

    The result goes through the same normalization as any other input (trimmed, deduplicated,
    lowercased where the field is).

    Raises:
        EmptyEditError: the edit names no field.
        InvalidAnalysisError: the edit would leave nothing describable.
    """
    given = edit.given()
    if not given:
        msg = "the edit names no field to change"
        raise EmptyEditError(msg)
    if "text" in given and "text_lines" not in given:
        given["text_lines"] = given["text"].splitlines()
    elif "text_lines" in given and "text" not in given:
        given["text"] = ""  # derived again from the new lines
    merged = {**msgspec.to_builtins(current), **given}
    edited = normalize_analysis(merged)
    fields = set(user_fields) | set(given)
    return edited, [name for name in Analysis.__struct_fields__ if name in fields]


def keep_user_fields(fresh: Analysis, previous: Analysis, user_fields: list[str]) -> Analysis:
    """``fresh`` with the owner's fields taken from ``previous``."""
    names = set(user_fields)
    if names & _TEXT_PAIR:
        names |= _TEXT_PAIR
    kept = {name: getattr(previous, name) for name in Analysis.__struct_fields__ if name in names}
    return msgspec.structs.replace(fresh, **kept) if kept else fresh


def changed_fields(before: Analysis | None, after: Analysis) -> list[str]:
    """The fields whose value differs between two versions (all non-empty ones for a first)."""
    empty = Analysis()
    base = before if before is not None else empty
    return [
        name
        for name in Analysis.__struct_fields__
        if getattr(base, name) != getattr(after, name)
        and (before is not None or getattr(after, name) != getattr(empty, name))
    ]
