"""The agent's two tools, both read-only and both scoped to the verified caller.

- ``search_collection`` calls the search service's ``POST /search`` with the caller's own bearer
  token, so the search service enforces tenancy exactly as for the user's own searches.
- ``get_item`` reads one item and its latest analysis in a tenant transaction (row-level
  security plus ``WHERE user_id``), so another user's id reads as "not found".

Neither takes a user id: arguments are validated against closed schemas (unknown fields are
errors), and the tenant always comes from the :class:`Principal`. Results go back to the model
as JSON data; captions inside them are untrusted text (prompt injection), never instructions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

import httpx
import msgspec
import structlog

from collections_chat.agent.state import Found, ToolCall
from collections_shared.auth import Principal
from collections_shared.db import Pool, tenant_transaction
from collections_shared.logging import get_logger

log = get_logger(__name__)

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=48)]


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


TOOLS: list[dict[str, Any]] = [
    {
        "name": "search_collection",
        "description": (
            "Search the user's own photo collection by keyword, meaning or both (hybrid). "
            "Returns item ids, relevance scores and one-sentence summaries."
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
    },
    {
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
    },
]


@dataclass(frozen=True)
class ToolResult:
    content: str
    """JSON handed back to the model as the tool result."""
    found: list[Found] = field(default_factory=list)
    error: str | None = None


class SearchUnavailableError(Exception):
    """The search service did not answer usefully; the agent says so instead of failing."""


class SearchRejectedError(SearchUnavailableError):
    """The search service refused the arguments (a 400/422); the model may try others."""


class SearchClient:
    """``POST /search`` on the internal search service, as the caller."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, *, timeout: float) -> None:
        self._http = http
        self._url = f"{base_url.rstrip('/')}/search"
        self._timeout = timeout

    async def search(self, token: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        headers = {"authorization": f"Bearer {token}"}
        # The same request id in both services' logs, so one chat turn can be followed.
        if request_id := structlog.contextvars.get_contextvars().get("request_id"):
            headers["x-request-id"] = str(request_id)
        try:
            response = await self._http.post(
                self._url, json=body, headers=headers, timeout=self._timeout
            )
        except httpx.HTTPError as error:
            raise SearchUnavailableError("the search service did not answer") from error
        if response.status_code in (400, 422):
            raise SearchRejectedError(f"the search service refused: {response.text[:300]}")
        if response.status_code != 200:
            raise SearchUnavailableError(f"the search service answered {response.status_code}")
        results = response.json().get("results", [])
        return [result for result in results if isinstance(result, dict)]


async def run_tool(
    call: ToolCall,
    *,
    principal: Principal,
    search: SearchClient,
    pool: Pool,
    default_limit: int,
    scope: Mapping[str, Any] | None = None,
) -> ToolResult:
    """Run one tool call; bad arguments and failures become error results for the model.

    ``scope`` holds search filters the caller set (e.g. an album): every search keeps to them.
    """
    try:
        if call["name"] == "search_collection":
            arguments = msgspec.convert(call["arguments"], SearchArguments)
            return await search_collection(principal, search, arguments, default_limit, scope)
        if call["name"] == "get_item":
            item_arguments = msgspec.convert(call["arguments"], GetItemArguments)
            return await get_item(principal, pool, item_arguments.item_id)
    except msgspec.ValidationError as error:
        return _error(f"invalid arguments: {error}")
    except SearchRejectedError:
        return _error("search refused these arguments")
    except SearchUnavailableError as error:
        log.warning("chat_search_unavailable", error=str(error))
        return _error("search is unavailable right now")
    return _error(f"unknown tool {call['name'][:64]!r}")


async def search_collection(
    principal: Principal,
    search: SearchClient,
    arguments: SearchArguments,
    default_limit: int,
    scope: Mapping[str, Any] | None = None,
) -> ToolResult:
    body: dict[str, Any] = {
        "query": arguments.query,
        "mode": arguments.mode,
        "limit": arguments.limit or default_limit,
    }
    filters = msgspec.to_builtins(arguments.filters) if arguments.filters is not None else {}
    filters.update(scope or {})
    if filters:
        body["filters"] = filters
    results = await search.search(principal.token, body)
    cards = [_card(result) for result in results]
    found: list[Found] = [
        {"item_id": c["item_id"], "summary": c["summary"], "score": c["score"], "source": "search"}
        for c in cards
    ]
    return ToolResult(content=json.dumps({"results": cards}), found=found)


_ITEM_QUERY = """
SELECT i.id, i.filename, i.status, i.category, i.taken_at, i.created_at, i.camera_make,
       i.camera_model, a.summary, a.description, a.tags, a.objects, a.visible_text, a.colors,
       a.setting
  FROM items i LEFT JOIN analyses a ON a.id = i.latest_analysis_id
 WHERE i.id = $1 AND i.user_id = $2
"""


async def get_item(principal: Principal, pool: Pool, item_id: str) -> ToolResult:
    try:
        key = uuid.UUID(item_id)
    except ValueError:
        return _error("not found")
    async with tenant_transaction(pool, principal.user_id) as connection:
        row = await connection.fetchrow(_ITEM_QUERY, key, principal.user_id)
    if row is None:
        return _error("not found")
    details = _details(row)
    found: Found = {
        "item_id": details["item_id"],
        "summary": details["summary"],
        "score": 1.0,
        "source": "item",
        "details": details,
    }
    return ToolResult(content=json.dumps({"item": details}), found=[found])


def _details(row: Any) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "item_id": str(row["id"]),
        "filename": row["filename"],
        "status": row["status"],
        "category": row["category"],
        "taken_at": iso(row["taken_at"]),
        "uploaded_at": iso(row["created_at"]),
        "camera": " ".join(part for part in (row["camera_make"], row["camera_model"]) if part),
        "summary": row["summary"] or "",
        "description": row["description"] or "",
        "tags": list(row["tags"] or []),
        "objects": list(row["objects"] or []),
        "visible_text": row["visible_text"] or "",
        "colors": list(row["colors"] or []),
        "setting": row["setting"] or "",
    }


def _card(result: dict[str, Any]) -> dict[str, Any]:
    item = result.get("item") if isinstance(result.get("item"), dict) else {}
    assert isinstance(item, dict)
    return {
        "item_id": str(result.get("item_id", "")),
        "score": float(result.get("score") or 0.0),
        "summary": str(item.get("summary") or ""),
        "category": item.get("category"),
        "tags": list(item.get("tags") or []),
        "filename": str(item.get("filename") or ""),
        "taken_at": item.get("taken_at"),
    }


def _error(message: str) -> ToolResult:
    return ToolResult(content=json.dumps({"error": message}), error=message)
