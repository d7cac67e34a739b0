"""``POST /search``: thin handler over :class:`SearchService`."""

from __future__ import annotations

from litestar import post

from collections_search.schemas import SearchRequest, SearchResponse
from collections_search.service import SearchService
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
    return await searcher.search(principal.user_id, data)
