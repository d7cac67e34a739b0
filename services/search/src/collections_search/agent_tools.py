"""What Claude may do in agentic search, and how its tool calls are checked before they run.

Two tools: ``search`` (a query and filters over the caller's own collection) and ``finish`` (the
ranked item ids and a one-sentence plan). Neither names a user: the tenant is bound by the
service before the loop starts. Arguments are untrusted model output and are decoded into
closed structs (an unknown field, such as a smuggled ``user_id``, is an error). The caller's own
filters always apply: the model can add conditions, never remove or widen the caller's
(:func:`narrow`). Results go back as JSON data; the words in them come from images.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec

from collections_search.dates import bounds
from collections_search.schemas import Filters, SearchResult
from collections_shared.domain.analysis import CATEGORIES

MAX_TAGS = 16
SUMMARY_CHARS = 300
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=48)]

SEARCH_TOOL: dict[str, Any] = {
    "name": "search",
    "description": (
        "Search the user's own photo collection by keywords and meaning (hybrid search). "
        "Returns the best matches as data: item id, relevance score (0-1), category, summary, "
        "tags and dates. Filters narrow the search; every filter the user set applies anyway."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "query": {
                "type": "string",
                "maxLength": 200,
                "description": "What the photos show, in a few words (no dates or kinds).",
            },
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "tags": {
                "type": "array",
                "items": {"type": "string", "maxLength": 48},
                "maxItems": 8,
                "description": "Every tag must be on the item (tags or detected objects).",
            },
            "date_field": {
                "type": "string",
                "enum": ["taken", "uploaded"],
                "description": "Which date the range applies to; default taken.",
            },
            "date_from": {"type": "string", "format": "date", "description": "First day."},
            "date_to": {"type": "string", "format": "date", "description": "Last day."},
            "has_text": {"type": "boolean", "description": "Words visible in the image."},
        },
        "required": ["query"],
        "additionalProperties": False,
    },
}
FINISH_TOOL: dict[str, Any] = {
    "name": "finish",
    "description": (
        "Give the final answer: the ids of the items that match the request, best first "
        "(only ids that search returned; an empty list if nothing matches), and the plan."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "item_ids": {"type": "array", "items": {"type": "string"}, "maxItems": 100},
            "plan": {
                "type": "string",
                "maxLength": 300,
                "description": "One sentence: how you read the request.",
            },
        },
        "required": ["item_ids", "plan"],
        "additionalProperties": False,
    },
}
TOOLS = [SEARCH_TOOL, FINISH_TOOL]


class SearchArguments(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    category: str | None = None
    tags: Annotated[list[Tag], msgspec.Meta(max_length=8)] | None = None
    date_field: Literal["taken", "uploaded"] = "taken"
    date_from: date | None = None
    date_to: date | None = None
    has_text: bool | None = None

    def __post_init__(self) -> None:
        if self.category is not None and self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category[:48]!r}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")


class FinishArguments(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    item_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=100)]
    plan: Annotated[str, msgspec.Meta(max_length=300)] = ""


def proposed_filters(arguments: SearchArguments, now: datetime, notes: list[str]) -> dict[str, Any]:
    """The filters a search call asks for; dates read in the client's calendar, future ones
    dropped (and said so in ``notes``)."""
    proposed: dict[str, Any] = {}
    if arguments.category:
        proposed["categories"] = [arguments.category]
    if arguments.tags:
        proposed["tags"] = [tag.lower() for tag in arguments.tags]
    if arguments.has_text is not None:
        proposed["has_text"] = arguments.has_text
    if arguments.date_from or arguments.date_to:
        end = arguments.date_to + timedelta(days=1) if arguments.date_to else None
        window = bounds(arguments.date_from, end, now)
        field = "created" if arguments.date_field == "uploaded" else "taken"
        if window.dropped:
            notes.append(f"dates: {window.dropped}")
        if window.after is not None:
            proposed[f"{field}_after"] = window.after
        if window.before is not None:
            proposed[f"{field}_before"] = window.before
    return proposed


def narrow(explicit: Filters, proposed: dict[str, Any]) -> Filters:
    """The caller's filters with the proposed ones added; never wider than the caller's.

    The caller's category choice stands; tags add up (all must match); date ranges intersect;
    the caller's ``has_text`` stands.
    """
    merged = msgspec.structs.asdict(explicit)
    if not (explicit.category or explicit.categories) and proposed.get("categories"):
        merged["categories"] = proposed["categories"]
    if proposed.get("tags"):
        tags = [*(explicit.tags or []), *proposed["tags"]]
        merged["tags"] = list(dict.fromkeys(tags))[:MAX_TAGS]
    for field, tighter in (
        ("taken_after", max),
        ("created_after", max),
        ("taken_before", min),
        ("created_before", min),
    ):
        if (value := proposed.get(field)) is not None:
            merged[field] = tighter(value, _aware(merged[field])) if merged[field] else value
    if explicit.has_text is None and proposed.get("has_text") is not None:
        merged["has_text"] = proposed["has_text"]
    return Filters(**merged)


def _aware(value: datetime) -> datetime:
    """A caller's date without an offset is read as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def describe(filters: Filters) -> str:
    """The filters in one line, for the plan's steps."""
    values = msgspec.structs.asdict(filters)
    return ", ".join(f"{key}={_plain(value)}" for key, value in values.items() if value is not None)


def _plain(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "|".join(str(item) for item in value)
    return str(value)


def render_results(results: list[SearchResult], filters: Filters, notes: list[str]) -> str:
    """A search tool result as JSON: what ran and what it found (captions are data)."""
    found = [
        {
            "item_id": str(result.item_id),
            "score": result.score,
            "category": result.item.category,
            "summary": result.item.summary[:SUMMARY_CHARS],
            "tags": result.item.tags[:12],
            "taken_at": _day(result.item.taken_at),
            "uploaded_at": _day(result.item.created_at),
        }
        for result in results
    ]
    applied = json.loads(msgspec.json.encode(filters))
    body: dict[str, Any] = {"filters_applied": applied, "results": found}
    if notes:
        body["notes"] = notes
    return json.dumps(body, ensure_ascii=False)


def _day(value: datetime | None) -> str | None:
    return value.date().isoformat() if value is not None else None
