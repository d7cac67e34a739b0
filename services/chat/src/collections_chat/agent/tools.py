"""The agent's tools, all read-only and none able to name a user.

- ``search_collection`` runs the calibrated search of the search service as the caller (see
  :class:`~collections_chat.agent.clients.SearchClient`); when nothing is relevant it says so
  (``no_match``), so the agent can tell the user that nothing in their collection matches.
- ``get_item`` reads one item and its latest analysis in a tenant transaction (row-level
  security plus ``WHERE user_id``), so another user's id reads as "not found".
- ``web_search`` (only when ``TAVILY_API_KEY`` is set) searches the public web through Tavily
  and returns titles, URLs and snippets; nothing fetches a URL.

Arguments are validated against closed schemas (unknown fields are errors), and the tenant
always comes from the :class:`Principal`. Results go back to the model as JSON data; captions
and web pages inside them are untrusted text (prompt injection), never instructions.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from collections_chat import repository
from collections_chat.agent.clients import (
    SearchRejectedError,
    SearchUnavailableError,
    WebSearchUnavailableError,
)
from collections_chat.agent.context import Context
from collections_chat.agent.state import Found, ToolCall, WebPage
from collections_shared.db import tenant_transaction
from collections_shared.domain.search import SearchResult
from collections_shared.logging import get_logger

log = get_logger(__name__)

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=48)]
NO_MATCH_NOTE = "Nothing in the user's collection matches this search."


class SearchFilters(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    category: Short | None = None
    tags: Annotated[list[Short], msgspec.Meta(max_length=8)] | None = None
    taken_after: datetime | None = None
    taken_before: datetime | None = None


class SearchArguments(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    mode: Literal["keyword", "vector", "hybrid"] = "hybrid"
    limit: Annotated[int, msgspec.Meta(ge=1, le=10)] | None = None
    filters: SearchFilters | None = None


class GetItemArguments(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    item_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class WebSearchArguments(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=400)]


SEARCH_COLLECTION: dict[str, Any] = {
    "name": "search_collection",
    "description": (
        "Search the user's own photo collection by keyword, meaning or both (hybrid). "
        "Returns item ids, relevance scores (0-1) and one-sentence summaries; no_match is "
        "true when nothing in the collection is relevant."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to look for.", "maxLength": 500},
            "mode": {"type": "string", "enum": ["keyword", "vector", "hybrid"]},
            "limit": {"type": "integer", "minimum": 1, "maximum": 10},
            "filters": {
                "type": "object",
                "properties": {
                    "category": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 8},
                    "taken_after": {"type": "string", "format": "date-time"},
                    "taken_before": {"type": "string", "format": "date-time"},
                },
                "additionalProperties": False,
            },
        },
        "required": ["query"],
        "additionalProperties": False,
    },
}
GET_ITEM: dict[str, Any] = {
    "name": "get_item",
    "description": (
        "Read one item of the user's collection by id: file name, dates, camera, and the "
        "latest analysis (description, tags, objects, visible text, colors, setting)."
    ),
    "input_schema": {
        "type": "object",
        "properties": {"item_id": {"type": "string", "description": "An item id (UUID)."}},
        "required": ["item_id"],
        "additionalProperties": False,
    },
}
WEB_SEARCH: dict[str, Any] = {
    "name": "web_search",
    "description": (
        "Search the public web (not the user's photos) for facts the collection cannot give, "
        "e.g. what a landmark in a photo is. Returns page titles, URLs and short snippets."
    ),
    "input_schema": {
        "type": "object",
        "properties": {"query": {"type": "string", "maxLength": 400}},
        "required": ["query"],
        "additionalProperties": False,
    },
}
TOOLS: list[dict[str, Any]] = [SEARCH_COLLECTION, GET_ITEM]


def tools_for(context: Context) -> list[dict[str, Any]]:
    """The tools offered this turn: the web only when web search is configured."""
    return [*TOOLS, WEB_SEARCH] if context.web is not None else TOOLS


@dataclass(frozen=True)
class ToolResult:
    content: str
    """JSON handed back to the model as the tool result."""
    found: list[Found] = field(default_factory=list)
    pages: list[WebPage] = field(default_factory=list)
    error: str | None = None


async def run_tool(call: ToolCall, context: Context) -> ToolResult:
    """Run one tool call; bad arguments and failures become error results for the model."""
    offered = {tool["name"] for tool in tools_for(context)}
    if call["name"] not in offered:
        return _error(f"unknown tool {call['name'][:64]!r}")
    try:
        return await _dispatch(call, context)
    except msgspec.ValidationError as error:
        return _error(f"invalid arguments: {error}")
    except SearchRejectedError:
        return _error("search refused these arguments")
    except SearchUnavailableError as error:
        log.warning("chat_search_unavailable", error=str(error))
        return _error("search is unavailable right now")
    except WebSearchUnavailableError:
        return _error("web search is unavailable right now")


async def _dispatch(call: ToolCall, context: Context) -> ToolResult:
    if call["name"] == "search_collection":
        return await search_collection(context, msgspec.convert(call["arguments"], SearchArguments))
    if call["name"] == "get_item":
        item = msgspec.convert(call["arguments"], GetItemArguments)
        return await get_item(context, item.item_id)
    web = msgspec.convert(call["arguments"], WebSearchArguments)
    return await web_search(context, web.query)


async def search_collection(context: Context, arguments: SearchArguments) -> ToolResult:
    body: dict[str, Any] = {
        "query": arguments.query,
        "mode": arguments.mode,
        "limit": arguments.limit or context.search_limit,
    }
    filters = msgspec.to_builtins(arguments.filters) if arguments.filters is not None else {}
    # The caller's scope (e.g. an album) wins over what the model asked for.
    filters.update(context.scope)
    if filters:
        body["filters"] = filters
    response = await context.search.search(context.principal.token, body)
    cards = [_card(result) for result in response.results]
    found: list[Found] = [
        {"item_id": c["item_id"], "summary": c["summary"], "score": c["score"], "source": "search"}
        for c in cards
    ]
    # The calibrated search says when nothing is relevant; an empty list means the same.
    no_match = response.no_match or not cards
    content: dict[str, Any] = {"results": cards, "no_match": no_match}
    if no_match:
        content["note"] = NO_MATCH_NOTE
    return ToolResult(content=json.dumps(content), found=found)


async def get_item(context: Context, item_id: str) -> ToolResult:
    try:
        key = uuid.UUID(item_id)
    except ValueError:
        return _error("not found")
    async with tenant_transaction(context.pool, context.principal.user_id) as connection:
        details = await repository.item_details(connection, context.principal.user_id, key)
    if details is None:
        return _error("not found")
    found: Found = {
        "item_id": details["item_id"],
        "summary": details["summary"],
        "score": 1.0,
        "source": "item",
        "details": details,
    }
    return ToolResult(content=json.dumps({"item": details}), found=[found])


async def web_search(context: Context, query: str) -> ToolResult:
    assert context.web is not None
    results = await context.web.search(query)
    pages: list[WebPage] = [{"url": result.url, "title": result.title} for result in results]
    content = {
        "results": [
            {"url": result.url, "title": result.title, "snippet": result.content}
            for result in results
        ],
        "note": "Web pages, not the user's photos. Cite a page by its URL in square brackets.",
    }
    return ToolResult(content=json.dumps(content, ensure_ascii=False), pages=pages)


def _card(result: SearchResult) -> dict[str, Any]:
    item = result.item
    return {
        "item_id": str(result.item_id),
        "score": result.score,
        "summary": item.summary,
        "category": item.category,
        "tags": list(item.tags),
        "filename": item.filename,
        "taken_at": item.taken_at.isoformat() if item.taken_at else None,
    }


def _error(message: str) -> ToolResult:
    return ToolResult(content=json.dumps({"error": message}), error=message)
