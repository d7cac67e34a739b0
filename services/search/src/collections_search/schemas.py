"""The search API's bodies: defined once in :mod:`collections_shared.domain.search`."""

from __future__ import annotations

from collections_shared.domain.search import (
    Explanation,
    Filters,
    ItemCard,
    Mode,
    Plan,
    SearchRequest,
    SearchResponse,
    SearchResult,
)

__all__ = [
    "Explanation",
    "Filters",
    "ItemCard",
    "Mode",
    "Plan",
    "SearchRequest",
    "SearchResponse",
    "SearchResult",
]
