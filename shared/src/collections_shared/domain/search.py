"""``POST /search``: request and response bodies."""

from __future__ import annotations

import functools
import uuid
import zoneinfo
from datetime import datetime
from typing import Annotated, Literal

import msgspec

Mode = Literal["keyword", "bm25", "vector", "hybrid", "agentic"]
Label = Annotated[str, msgspec.Meta(max_length=48)]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")]
PlanSource = Literal["llm", "rules"]
AnswerUnavailable = Literal["no_llm", "llm_unavailable", "no_results"]
"""Why ``answer`` is null although one was asked for: no LLM is configured; the LLM failed or
timed out; there were no results to answer from (the LLM is not asked then)."""


@functools.cache
def _time_zones() -> frozenset[str]:
    """Every IANA zone name; only these reach ``ZoneInfo`` (which would open any other path)."""
    return frozenset(zoneinfo.available_timezones())


class Filters(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    category: Label | None = None
    categories: Annotated[list[Label], msgspec.Meta(max_length=16)] | None = None
    tags: Annotated[list[Label], msgspec.Meta(max_length=16)] | None = None
    """Every tag must be present (in tags or objects)."""
    taken_after: datetime | None = None
    taken_before: datetime | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    album_id: uuid.UUID | None = None
    """Only items in this album of the caller's (another user's album is a 404)."""
    favorite: bool | None = None
    """True: only favourites; false: only items that are not."""
    has_text: bool | None = None
    """Only items with (``true``) or without (``false``) words visible in the image."""


class SearchRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    mode: Mode = "hybrid"
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20
    filters: Filters = msgspec.field(default_factory=Filters)
    min_score: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0
    """Drop results whose calibrated ``score`` is below this. Above 0 it replaces the service's
    own "nothing matches" threshold."""
    answer: bool = False
    """Also write a short answer grounded in the results (cites item ids)."""
    explain: bool = False
    """Also return, per result, each arm's rank and raw score and the calibrated score."""
    tz: TimeZone = "UTC"
    """The client's IANA time zone: agentic mode reads "yesterday" or "last winter" in it."""

    def __post_init__(self) -> None:
        if self.tz not in _time_zones():
            raise ValueError(f"unknown time zone {self.tz!r}")

    @property
    def uses_llm(self) -> bool:
        """Agentic planning and generated answers may call the LLM; the quota is charged only
        when the response says one was called (``llm_calls``)."""
        return self.answer or self.mode == "agentic"


class ItemCard(msgspec.Struct, frozen=True):
    id: uuid.UUID
    filename: str
    status: str
    category: str | None
    summary: str
    tags: list[str]
    created_at: datetime
    taken_at: datetime | None
    thumbnail_url: str | None


class Explanation(msgspec.Struct, frozen=True):
    """How one result was scored (``explain: true``); an arm's fields are null if it missed."""

    keyword_rank: int | None
    keyword_raw: float | None
    """The keyword arm's own score (unbounded, higher is better)."""
    vector_rank: int | None
    vector_similarity: float | None
    calibrated: float
    """The ``score``: the estimated chance that this result is relevant."""


class SearchResult(msgspec.Struct, frozen=True):
    item_id: uuid.UUID
    score: float
    """0-1, calibrated on labelled queries: close to the chance the result is relevant, the
    same meaning in every mode (agentic: the hybrid score of its searches)."""
    item: ItemCard
    keyword_score: float | None = None
    """The keyword arm's raw score (unbounded, higher is better); null if it missed."""
    vector_score: float | None = None
    """Cosine similarity of the query and the item's embedding."""
    highlights: list[str] = msgspec.field(default_factory=list)
    explain: Explanation | msgspec.UnsetType = msgspec.UNSET
    """Present only when the request asked for ``explain``."""


class Plan(msgspec.Struct, frozen=True, omit_defaults=True):
    """How agentic mode read the query."""

    query: str
    filters: Filters
    source: PlanSource
    """``llm``: Claude planned (and ranked) the search; ``rules``: the offline planner did."""
    steps: list[str] = msgspec.field(default_factory=list)


class SearchResponse(msgspec.Struct, frozen=True):
    results: list[SearchResult]
    answer: str | None
    mode: str
    took_ms: float
    plan: Plan | None = None
    model: str | None = None
    """The embedding model used for the vector arm."""
    answer_unavailable: AnswerUnavailable | None = None
    llm_calls: int = 0
    """Requests this search made to the LLM; the gateway charges the LLM quota only if > 0."""
    no_match: bool = False
    """Nothing in the collection is relevant: ``results`` is empty and no answer was written."""
