"""The agent's two outside services: the collection's search (as the caller) and the web.

- :class:`SearchClient` calls the internal search service's ``POST /search`` with the caller's
  own bearer token, so search enforces tenancy exactly as for the user's own searches; the reply
  is decoded into the shared contract (:class:`collections_shared.domain.search.SearchResponse`).
- :class:`WebSearch` asks Tavily's search API (the official ``tavily-python`` SDK, pointed at
  ``tavily_base_url`` in tests). Only search: page contents come from Tavily's index, the service
  never fetches a URL. Results outside the configured domain lists are dropped here even if the
  API returned them, and only ``http(s)`` URLs are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec
import structlog
import tavily  # type: ignore[import-untyped]  # no type information shipped

from collections_shared.domain.search import SearchResponse
from collections_shared.logging import get_logger

log = get_logger(__name__)

TITLE_CHARS = 200
CONTENT_CHARS = 800
URL_CHARS = 2000


class SearchUnavailableError(Exception):
    """The search service did not answer usefully; the agent says so instead of failing."""


class SearchRejectedError(SearchUnavailableError):
    """The search service refused the arguments (a 400/422); the model may try others."""


class WebSearchUnavailableError(Exception):
    """The web search failed (quota, key, timeout, outage); the agent says so."""


class SearchClient:
    """``POST /search`` on the internal search service, as the caller."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, *, timeout: float) -> None:
        self._http = http
        self._url = f"{base_url.rstrip('/')}/search"
        self._timeout = timeout

    async def search(self, token: str, body: dict[str, Any]) -> SearchResponse:
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
        try:
            return msgspec.json.decode(response.content, type=SearchResponse)
        except msgspec.DecodeError as error:
            raise SearchUnavailableError(f"unreadable search response: {error}") from error


@dataclass(frozen=True)
class WebResult:
    url: str
    title: str
    content: str


class WebSearch:
    """Tavily search with the deployment's domain allow and deny lists."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "",
        include_domains: Sequence[str] = (),
        exclude_domains: Sequence[str] = (),
        max_results: int = 5,
        timeout: float = 15.0,
    ) -> None:
        # Its own HTTP client: the key is a default header of the client the SDK builds, which
        # must never be the one that carries the user's token to the search service.
        self._client = tavily.AsyncTavilyClient(api_key=api_key, api_base_url=base_url or None)
        self._include = tuple(domain.lower() for domain in include_domains)
        self._exclude = tuple(domain.lower() for domain in exclude_domains)
        self._max_results = max_results
        self._timeout = timeout

    async def aclose(self) -> None:
        await self._client.close()

    async def search(self, query: str) -> list[WebResult]:
        try:
            response = await self._client.search(
                query,
                search_depth="basic",
                max_results=self._max_results,
                include_domains=list(self._include) or None,
                exclude_domains=list(self._exclude) or None,
                include_answer=False,
                include_raw_content=False,
                include_images=False,
                timeout=self._timeout,
            )
        except (
            tavily.UsageLimitExceededError,
            tavily.InvalidAPIKeyError,
            tavily.BadRequestError,
            tavily.errors.ForbiddenError,
            tavily.errors.TimeoutError,
            httpx.HTTPError,
            ValueError,  # a body that is not JSON
        ) as error:
            log.warning("web_search_failed", error_type=type(error).__name__)
            raise WebSearchUnavailableError("the web search did not answer") from error
        return self._kept(response.get("results") if isinstance(response, dict) else None)

    def _kept(self, results: object) -> list[WebResult]:
        kept: list[WebResult] = []
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, dict):
                continue
            url = result.get("url")
            if not isinstance(url, str) or len(url) > URL_CHARS or not self.allows(url):
                continue
            title, content = result.get("title"), result.get("content")
            kept.append(
                WebResult(
                    url=url,
                    title=title[:TITLE_CHARS] if isinstance(title, str) else "",
                    content=content[:CONTENT_CHARS] if isinstance(content, str) else "",
                )
            )
        return kept[: self._max_results]

    def allows(self, url: str) -> bool:
        """An http(s) URL whose host is on the allow list (if any) and not on the deny list."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:  # e.g. an unclosed IPv6 bracket
            return False
        if parts.scheme not in ("http", "https") or not host:
            return False
        if self._include and not any(_within(host, domain) for domain in self._include):
            return False
        return not any(_within(host, domain) for domain in self._exclude)


def _within(host: str, domain: str) -> bool:
    return host == domain or host.endswith(f".{domain}")
