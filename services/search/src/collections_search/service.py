"""Search over one user's collection: keyword, vector, hybrid (fused) and agentic."""

from __future__ import annotations

import time
import uuid
from functools import partial
from typing import Any

import msgspec

from collections_embeddings.base import EmbeddingError, EmbeddingProvider
from collections_search import repository
from collections_search.agentic import Agent, Clock
from collections_search.answer import Answer, Answerer
from collections_search.schemas import (
    Filters,
    ItemCard,
    Plan,
    SearchRequest,
    SearchResponse,
    SearchResult,
)
from collections_search.settings import Settings
from collections_shared.db import Pool, tenant_transaction
from collections_shared.errors import ServiceUnavailableError
from collections_shared.llm import Claude
from collections_shared.logging import get_logger

log = get_logger(__name__)

Ranked = list[tuple[uuid.UUID, float]]


class SearchService:
    def __init__(
        self,
        pool: Pool,
        provider: EmbeddingProvider,
        s3: Any,
        settings: Settings,
        *,
        claude: Claude | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._pool = pool
        self._provider = provider
        self._s3 = s3
        self._settings = settings
        self._agent = Agent(claude, settings, clock)
        self._answerer = Answerer(claude, pool, settings)

    async def search(self, user_id: str, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        plan: Plan | None = None
        llm_calls = 0
        retrieve = partial(self._retrieve, user_id, request)
        if request.mode == "agentic":
            planned = await self._agent.search(request, retrieve)
            results, plan, llm_calls = planned.results, planned.plan, planned.llm_calls
        else:
            results = await retrieve(request.query, request.filters, request.limit)
        answered = Answer(None)
        if request.answer:
            answered = await self._answerer.answer(user_id, request, results)
        return SearchResponse(
            results=results,
            answer=answered.text,
            mode="keyword" if request.mode == "bm25" else request.mode,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            plan=plan,
            model=self._provider.model if request.mode != "keyword" else None,
            answer_unavailable=answered.unavailable,
            llm_calls=llm_calls + answered.llm_calls,
        )

    async def _retrieve(
        self, user_id: str, request: SearchRequest, query: str, filters: Filters, limit: int
    ) -> list[SearchResult]:
        """One search of ``query`` under ``filters`` in the request's mode (agentic: hybrid)."""
        fused = await self._ranked(user_id, request, query, filters)
        return await self._results(user_id, fused, msgspec.structs.replace(request, limit=limit))

    async def _ranked(
        self, user_id: str, request: SearchRequest, query: str, filters: Filters
    ) -> list[tuple[uuid.UUID, float, float | None, float | None]]:
        mode = request.mode
        keyword: Ranked = []
        vector: Ranked = []
        if mode in ("keyword", "bm25", "hybrid", "agentic"):
            keyword = await self._keyword(user_id, query, filters)
        if mode in ("vector", "hybrid", "agentic"):
            vector = await self._vector(user_id, query, filters)
        if mode in ("keyword", "bm25"):
            return [(item, rank / (rank + 1), rank / (rank + 1), None) for item, rank in keyword]
        if mode == "vector":
            return [(item, max(0.0, sim), None, sim) for item, sim in vector]
        return self._fuse(keyword, vector)

    async def _keyword(self, user_id: str, query: str, filters: Filters) -> Ranked:
        async with tenant_transaction(self._pool, user_id) as connection:
            return await repository.keyword(
                connection,
                user_id,
                query,
                filters,
                self._settings.candidates,
                params=self._settings.bm25(),
            )

    async def _vector(self, user_id: str, query: str, filters: Filters) -> Ranked:
        try:
            embedding = await self._provider.embed_query(query)
        except EmbeddingError as error:
            log.warning("query_embedding_failed", code=error.code)
            raise ServiceUnavailableError("semantic search is unavailable right now") from error
        async with tenant_transaction(self._pool, user_id) as connection:
            return await repository.vector(
                connection,
                user_id,
                model=self._provider.model,
                embedding=embedding,
                filters=filters,
                limit=self._settings.candidates,
                ef_search=self._settings.ef_search,
            )

    def _fuse(
        self, keyword: Ranked, vector: Ranked
    ) -> list[tuple[uuid.UUID, float, float | None, float | None]]:
        """Weighted reciprocal-rank fusion, scaled so rank 1 in both arms scores 1.0."""
        k = self._settings.rrf_k
        weights = {
            "vector": self._settings.vector_weight,
            "keyword": 1 - self._settings.vector_weight,
        }
        best = sum(weights.values()) / (k + 1)
        scores: dict[uuid.UUID, float] = {}
        keyword_scores = {item: rank / (rank + 1) for item, rank in keyword}
        vector_scores = dict(vector)
        for arm, ranked in (("keyword", keyword), ("vector", vector)):
            for position, (item, _) in enumerate(ranked, start=1):
                scores[item] = scores.get(item, 0.0) + weights[arm] / (k + position)
        ordered = sorted(scores.items(), key=lambda pair: pair[1], reverse=True)
        return [
            (item, score / best, keyword_scores.get(item), vector_scores.get(item))
            for item, score in ordered
        ]

    async def _results(
        self,
        user_id: str,
        fused: list[tuple[uuid.UUID, float, float | None, float | None]],
        request: SearchRequest,
    ) -> list[SearchResult]:
        kept = [entry for entry in fused if entry[1] >= request.min_score][: request.limit]
        async with tenant_transaction(self._pool, user_id) as connection:
            rows = await repository.cards(connection, [entry[0] for entry in kept])
        results = []
        for item_id, score, keyword_score, vector_score in kept:
            row = rows.get(item_id)
            if row is None:
                continue
            results.append(
                SearchResult(
                    item_id=item_id,
                    score=round(min(score, 1.0), 4),
                    keyword_score=round(keyword_score, 4) if keyword_score is not None else None,
                    vector_score=round(vector_score, 4) if vector_score is not None else None,
                    item=await self._card(row),
                    highlights=_highlights(request.query, row),
                )
            )
        return results

    async def _card(self, row: dict[str, Any]) -> ItemCard:
        thumbnail = row["derivative_keys"].get("thumbnail")
        url = None
        if thumbnail:
            url = await self._s3.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self._settings.bucket,
                    "Key": thumbnail,
                    "ResponseContentType": "image/webp",
                },
                ExpiresIn=self._settings.url_expiry_seconds,
            )
        return ItemCard(
            id=row["id"],
            filename=row["filename"],
            status=row["status"],
            category=row["category"],
            summary=row["summary"],
            tags=list(row["tags"]),
            created_at=row["created_at"],
            taken_at=row["taken_at"],
            thumbnail_url=url,
        )


def _highlights(query: str, row: dict[str, Any]) -> list[str]:
    terms = {word for word in query.lower().split() if len(word) > 2}
    found = [tag for tag in [*row["tags"], *row["objects"]] if tag in terms]
    if any(term in row["visible_text"].lower() for term in terms):
        found.append("text in image")
    return found[:5]
