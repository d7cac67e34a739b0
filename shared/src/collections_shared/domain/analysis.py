"""The structured analysis of an image (schema v2), who made it, and the model's tool schema.

An analysis comes from a vision model (Claude), from the local offline analyzer, from another
system (an import on upload) or from the owner (an edit). All of them are untrusted until
:func:`collections_shared.domain.analysis_input.normalize_analysis` has shaped them: known fields
only, every length capped, control characters dropped, unknown categories mapped to ``other``.
What a model writes is data; it never changes what the system does.

Schema v1 had ``category`` to ``setting``. Schema v2 adds the fields the seeds' screenshot
analysis has (headline, subcategories, places, poster and accounts, hashtags, audio, text lines,
themes, emotions, vibes, visual hierarchy, key interest, likely source). Every v2 field has a
default, so a v1 analysis is a valid v2 analysis with those fields empty. The JSON schema the
model fills is generated from :class:`Analysis` itself (:func:`analysis_json_schema`): the
descriptions and caps below are the model's instructions and the stored limits at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

import msgspec

SCHEMA_VERSION = 2
OFFLINE_PROVIDER = "local"
"""The ``provider`` of the offline analyzer's analyses (search treats their sparse text apart)."""

Category = Literal[
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
]
CATEGORIES: tuple[str, ...] = get_args(Category)

MAX_HEADLINE = 120
MAX_SUMMARY = 300
MAX_DESCRIPTION = 2000
MAX_TEXT = 4000
"""The joined visible text; a screenful of a social post or a recipe fits."""
MAX_TEXT_LINES = 120
MAX_LINE = 300
MAX_SETTING = 120
MAX_LIST_ITEMS = 25
MAX_SHORT_LIST = 10
MAX_COLORS = 10
MAX_TERM = 48
MAX_PHRASE = 120
MAX_HANDLE = 64
MAX_SENTENCE = 200

Term = Annotated[str, msgspec.Meta(max_length=MAX_TERM)]
Phrase = Annotated[str, msgspec.Meta(max_length=MAX_PHRASE)]
Handle = Annotated[str, msgspec.Meta(max_length=MAX_HANDLE)]
Line = Annotated[str, msgspec.Meta(max_length=MAX_LINE)]


def _terms(limit: int, description: str) -> Any:
    return msgspec.Meta(max_length=limit, description=description)


class Analysis(msgspec.Struct, frozen=True, kw_only=True):
    """What a vision model (or the owner) says about one image."""

    category: Annotated[
        Category, msgspec.Meta(description="The one category that fits the image best.")
    ] = "other"
    headline: Annotated[
        str,
        msgspec.Meta(
            max_length=MAX_HEADLINE,
            description="A short title of 3-10 words, like a post's headline: for a screenshot "
            "its main claim or topic ('Best ramen in Shinjuku under $15'), for a photo its "
            "subject ('Golden retriever on a beach').",
        ),
    ] = ""
    summary: Annotated[
        str, msgspec.Meta(max_length=MAX_SUMMARY, description="One sentence saying what it shows.")
    ] = ""
    description: Annotated[
        str,
        msgspec.Meta(
            max_length=MAX_DESCRIPTION,
            description="2-5 sentences: subjects, actions, setting, notable details.",
        ),
    ] = ""
    subcategories: Annotated[
        list[Term],
        _terms(
            MAX_SHORT_LIST,
            "Finer kinds within the category, lowercase: 'travel tip', 'restaurant', 'recipe', "
            "'price list', 'meme', 'portrait', 'street food'.",
        ),
    ] = msgspec.field(default_factory=list)
    tags: Annotated[
        list[Term],
        _terms(MAX_LIST_ITEMS, "5-15 lowercase search keywords: subjects, activities, style."),
    ] = msgspec.field(default_factory=list)
    objects: Annotated[
        list[Term], _terms(MAX_LIST_ITEMS, "Distinct physical things visible, lowercase nouns.")
    ] = msgspec.field(default_factory=list)
    text: Annotated[
        str,
        msgspec.Meta(
            max_length=MAX_TEXT,
            description="All visible text joined with newlines (derived from text_lines).",
        ),
    ] = ""
    text_lines: Annotated[
        list[Line],
        _terms(
            MAX_TEXT_LINES,
            "Every line of text visible in the image, verbatim and in reading order: captions, "
            "overlays, comments, prices with their currency, handles, hashtags, signs, labels. "
            "Empty if there is none.",
        ),
    ] = msgspec.field(default_factory=list)
    colors: Annotated[
        list[Term], _terms(MAX_COLORS, "Dominant colour names, most prominent first.")
    ] = msgspec.field(default_factory=list)
    setting: Annotated[
        str,
        msgspec.Meta(max_length=MAX_SETTING, description="Where: indoor/outdoor and the place."),
    ] = ""
    places: Annotated[
        list[Phrase],
        _terms(
            MAX_SHORT_LIST,
            "Named places shown or tagged: venues, streets, neighbourhoods, cities, countries "
            "('Ichiran Shibuya', 'Kyoto', 'Japan'). Only names that are written or unmistakable.",
        ),
    ] = msgspec.field(default_factory=list)
    poster: Annotated[
        Handle,
        msgspec.Meta(
            description="The account that posted it (a screenshot's author), as written, "
            "e.g. '@tokyofoodie'; empty if none is shown."
        ),
    ] = ""
    accounts: Annotated[
        list[Handle],
        _terms(MAX_LIST_ITEMS, "Other accounts tagged or mentioned, as written ('@name')."),
    ] = msgspec.field(default_factory=list)
    hashtags: Annotated[
        list[Term], _terms(MAX_LIST_ITEMS, "Hashtags shown, as written ('#ramen').")
    ] = msgspec.field(default_factory=list)
    audio: Annotated[
        str,
        msgspec.Meta(
            max_length=MAX_SENTENCE,
            description="The audio source a short-video screenshot names (song - artist, "
            "'original sound'); empty if none.",
        ),
    ] = ""
    themes: Annotated[
        list[Term], _terms(MAX_SHORT_LIST, "Topics it is about: 'travel', 'budget', 'nightlife'.")
    ] = msgspec.field(default_factory=list)
    emotions: Annotated[
        list[Term], _terms(MAX_SHORT_LIST, "Emotions shown or evoked: 'joy', 'nostalgia'.")
    ] = msgspec.field(default_factory=list)
    vibes: Annotated[
        list[Term], _terms(MAX_SHORT_LIST, "The aesthetic or mood: 'cozy', 'minimalist'.")
    ] = msgspec.field(default_factory=list)
    visual_hierarchy: Annotated[
        list[Phrase],
        _terms(MAX_SHORT_LIST, "What the eye meets first, second, third: short phrases, in order."),
    ] = msgspec.field(default_factory=list)
    key_interest: Annotated[
        str,
        msgspec.Meta(
            max_length=MAX_SENTENCE,
            description="The single most useful or interesting thing in it, in a few words.",
        ),
    ] = ""
    likely_source: Annotated[
        Term,
        msgspec.Meta(
            description="Where it most likely comes from, lowercase: an app ('instagram', "
            "'tiktok', 'x', 'facebook', 'reddit', 'youtube', 'pinterest', 'whatsapp', 'maps', "
            "'web page'), or 'screenshot', 'camera photo', 'scan', 'illustration'."
        ),
    ] = ""


ANALYSIS_FIELDS: tuple[str, ...] = Analysis.__struct_fields__
V1_FIELDS = ("category", "summary", "description", "tags", "objects", "text", "colors", "setting")
DERIVED_FIELDS = frozenset({"text"})
"""Fields computed from others (``text`` joins ``text_lines``): the model is not asked for them."""


class ProviderFailure(msgspec.Struct, frozen=True, kw_only=True):
    """A provider that was asked before the one that answered, and why it did not."""

    provider: str
    code: str
    """Machine-readable: ``auth_failed``, ``model_not_found``, ``rate_limited``, ..."""
    message: str = ""


class Provenance(msgspec.Struct, frozen=True, kw_only=True):
    """Who produced an analysis version, with what, at what cost, and what it inherited."""

    provider: str
    """``anthropic``, ``bedrock``, ``local``, ``import`` or ``user``."""
    model: str
    prompt_version: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: int | None = None
    raw: dict[str, Any] = msgspec.field(default_factory=dict)
    fallback: list[ProviderFailure] = msgspec.field(default_factory=list)
    """Providers earlier in the chain that failed, in order: empty when the first one answered."""
    user_fields: list[str] = msgspec.field(default_factory=list)
    """Fields whose value the owner set; a later automatic analysis keeps them."""
    restored_from: int | None = None
    """The version this one copies (a restore)."""
    created_at: datetime | None = None
    """When it was written, if not now: an imported analysis keeps its time in the source."""


def analysis_json_schema() -> dict[str, Any]:
    """The JSON schema a vision model is asked to fill (the forced tool's input schema).

    Generated from :class:`Analysis`: types, enums, length caps and descriptions come from the
    Struct. Two things differ from the stored shape, because they differ in meaning: derived
    fields are left out, and every field is required (the model says "" or [] rather than
    leaving a field out, while a stored v1 analysis simply lacks the v2 ones).
    """
    (_,), components = msgspec.json.schema_components([Analysis])
    schema: dict[str, Any] = dict(components["Analysis"])
    properties = {
        name: {key: value for key, value in spec.items() if key != "default"}
        for name, spec in schema["properties"].items()
        if name not in DERIVED_FIELDS
    }
    return {
        "type": "object",
        "description": schema.get("description", ""),
        "properties": properties,
        "required": list(properties),
    }
