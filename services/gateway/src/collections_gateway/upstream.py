"""Forwarding to the internal search and chat services, with the caller's own token.

The internal services verify the token themselves; the gateway adds nothing they must trust.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from collections_shared.errors import ServiceUnavailableError
from collections_shared.logging import get_logger

log = get_logger(__name__)

_FORWARDED = ("authorization", "x-request-id", "content-type", "accept")


class UpstreamResponse:
    def __init__(
        self, status_code: int, body: bytes, content_type: str, llm_calls: str | None = None
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.content_type = content_type
        self.llm_calls = llm_calls
        """The upstream's ``llm-calls`` header, if it sent one (chat does on answered turns)."""


class UpstreamStream:
    """A streamed 200: its chunks, and the ``llm-calls`` header it opened with."""

    def __init__(self, chunks: AsyncIterator[bytes], llm_calls: str | None) -> None:
        self.chunks = chunks
        self.llm_calls = llm_calls


class Upstream:
    def __init__(self, http: httpx.AsyncClient, base_url: str, name: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self.name = name

    def _headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {key: value for key, value in headers.items() if key.lower() in _FORWARDED}

    async def call(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b"", params: Any = None
    ) -> UpstreamResponse:
        try:
            response = await self._http.request(
                method,
                f"{self._base}{path}",
                headers=self._headers(headers),
                content=body,
                params=params,
            )
        except httpx.HTTPError as error:
            log.warning("upstream_unreachable", upstream=self.name, error=str(error))
            raise ServiceUnavailableError(
                f"{self.name} is unavailable; try again shortly"
            ) from error
        if response.status_code >= 500:
            log.warning("upstream_failed", upstream=self.name, status=response.status_code)
            raise ServiceUnavailableError(f"{self.name} failed; try again shortly")
        return UpstreamResponse(
            response.status_code,
            response.content,
            response.headers.get("content-type", "application/json"),
            response.headers.get("llm-calls"),
        )

    async def open_stream(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> UpstreamStream | UpstreamResponse:
        """Start a streamed (SSE) call: the chunks if it answered 200, else its error response.

        The status is known before the first chunk, so an error (404 for someone else's session,
        422 for a bad message) reaches the caller as itself, not inside a 200 event stream.
        """
        request = self._http.build_request(
            "POST", f"{self._base}{path}", headers=self._headers(headers), content=body
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as error:
            raise ServiceUnavailableError(
                f"{self.name} is unavailable; try again shortly"
            ) from error
        if response.status_code != 200:
            content = await response.aread()
            await response.aclose()
            if response.status_code >= 500:
                raise ServiceUnavailableError(f"{self.name} failed; try again shortly")
            return UpstreamResponse(
                response.status_code,
                content,
                response.headers.get("content-type", "application/json"),
            )
        return UpstreamStream(self._relay(response), response.headers.get("llm-calls"))

    async def _relay(self, response: httpx.Response) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_raw():
                yield chunk
        finally:
            await response.aclose()
