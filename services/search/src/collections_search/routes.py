"""``POST /search``: thin handler over :class:`SearchService`."""

from __future__ import annotations

import time

from litestar import post

from collections_search.schemas import SearchRequest, SearchResponse
from collections_search.service import SearchService
from collections_shared import metrics
from collections_shared.auth import Principal


@post(
    "/search",
    status_code=200,
    tags=["search"],
    security=[{"BearerToken": []}],
    summary="Search the collection",
)
async def search(
    principal: Principal, searcher: SearchService, data: SearchRequest
) -> SearchResponse:
    started = time.perf_counter()
    response = await searcher.search(principal.user_id, data)
    metrics.SEARCH_DURATION.labels(response.mode).observe(time.perf_counter() - started)
    return response
