"""Search over one user's collection: keyword, vector, hybrid (fused) and agentic."""

from __future__ import annotations

import asyncio
import time
import uuid
from functools import partial
from typing import Any

import msgspec

from collections_embeddings.base import EmbeddingError, EmbeddingProvider
from collections_search import calibration, repository
from collections_search.agentic import Agent, Clock
from collections_search.answer import Answer, Answerer
from collections_search.schemas import (
    Explanation,
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
Scored = list[tuple[calibration.Candidate, float]]


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
        self._calibration = calibration.load().for_model(provider.model)

    async def search(self, user_id: str, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        plan: Plan | None = None
        llm_calls = 0
        scored: Scored = []
        retrieve = partial(self._retrieve, user_id, request)
        if request.mode == "agentic":
            planned = await self._agent.search(request, retrieve)
            results, plan, llm_calls = planned.results, planned.plan, planned.llm_calls
        else:
            scored = await self._ranked(user_id, request, request.query, request.filters)
            results = await self._results(user_id, scored, request)
        no_match = await self._nothing_matches(user_id, request, scored, results)
        if no_match:
            results = []
        answered = Answer(None, "no_results" if request.answer else None)
        if request.answer and not no_match:
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
            no_match=no_match,
        )

    async def _nothing_matches(
        self, user_id: str, request: SearchRequest, scored: Scored, results: list[SearchResult]
    ) -> bool:
        """Nothing relevant: no result, or (vector and hybrid, without the caller's own
        ``min_score``) evidence too weak by the bars fitted on the golden set, unless the
        offline analyzer described a result: on its sparse text weak evidence proves nothing
        (no bar separates its misses from its matches, docs/search.md)."""
        if not results:
            return True
        if not self._weak(request, scored, results):
            return False
        async with tenant_transaction(self._pool, user_id) as connection:
            shown = [result.item_id for result in results]
            return not await repository.any_offline_analysis(connection, shown)

    def _weak(self, request: SearchRequest, scored: Scored, results: list[SearchResult]) -> bool:
        if request.min_score > 0 or request.mode not in ("vector", "hybrid"):
            # The caller chose the bar; agentic results are the planner's ranking, not scores.
            # A keyword result contains the query's words: that is a match. BM25 shrinks with the
            # collection (IDF), so a bar fitted on the golden set would hide the one photo of a
            # one-photo library that has the word.
            return False
        if max(result.score for result in results) < self._calibration.threshold(request.mode):
            return True
        rule = self._calibration.query_no_match
        return (
            request.mode == "hybrid"
            and rule is not None
            and rule.nothing_matches([candidate for candidate, _ in scored])
        )

    async def _retrieve(
        self, user_id: str, request: SearchRequest, query: str, filters: Filters, limit: int
    ) -> list[SearchResult]:
        """One search of ``query`` under ``filters`` in the request's mode (agentic: hybrid)."""
        scored = await self._ranked(user_id, request, query, filters)
        return await self._results(user_id, scored, msgspec.structs.replace(request, limit=limit))

    async def _ranked(
        self, user_id: str, request: SearchRequest, query: str, filters: Filters
    ) -> Scored:
        """Both arms' candidates, each with its calibrated score, best first."""
        mode = request.mode
        # Each arm on its own pooled connection at the same time: a hybrid search takes as
        # long as its slower arm (with the query embedding), not as long as both.
        keyword, vector = await asyncio.gather(
            self._keyword(user_id, query, filters)
            if mode in ("keyword", "bm25", "hybrid", "agentic")
            else _nothing(),
            self._vector(user_id, query, filters)
            if mode in ("vector", "hybrid", "agentic")
            else _nothing(),
        )
        found = calibration.candidates(keyword, vector)
        return calibration.score(found, self._calibration.scorer(mode))

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
        return await repository.vector(
            self._pool,
            user_id,
            model=self._provider.model,
            embedding=embedding,
            filters=filters,
            limit=self._settings.candidates,
            ef_search=self._settings.ef_search,
            exact_max_items=self._settings.vector_exact_max_items,
        )

    async def _results(
        self, user_id: str, scored: Scored, request: SearchRequest
    ) -> list[SearchResult]:
        # Compared as returned (4 decimals), so a client's min_score of a score it saw keeps it.
        kept = [(c, round(score, 4)) for c, score in scored]
        kept = [entry for entry in kept if entry[1] >= request.min_score][: request.limit]
        async with tenant_transaction(self._pool, user_id) as connection:
            rows = await repository.cards(connection, [entry[0].item_id for entry in kept])
        results = []
        for candidate, score in kept:
            row = rows.get(candidate.item_id)
            if row is None:
                continue
            results.append(
                SearchResult(
                    item_id=candidate.item_id,
                    score=score,
                    keyword_score=_rounded(candidate.keyword_raw),
                    vector_score=_rounded(candidate.similarity),
                    item=await self._card(row),
                    highlights=_highlights(request.query, row),
                    explain=_explain(candidate, score) if request.explain else msgspec.UNSET,
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


async def _nothing() -> Ranked:
    """The candidates of an arm the mode does not use."""
    return []


def _rounded(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _explain(candidate: calibration.Candidate, score: float) -> Explanation:
    return Explanation(
        keyword_rank=candidate.keyword_rank,
        keyword_raw=_rounded(candidate.keyword_raw),
        vector_rank=candidate.vector_rank,
        vector_similarity=_rounded(candidate.similarity),
        calibrated=score,
    )


def _highlights(query: str, row: dict[str, Any]) -> list[str]:
    terms = {word for word in query.lower().split() if len(word) > 2}
    found = [tag for tag in [*row["tags"], *row["objects"]] if tag in terms]
    if any(term in row["visible_text"].lower() for term in terms):
        found.append("text in image")
    return found[:5]
