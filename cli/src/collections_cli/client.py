"""The HTTP client of the CLI: the caller's token, one refresh on expiry, polite retries.

- An expired access token is refreshed (once, shared by concurrent requests) before it is sent;
  a 401 answer triggers one refresh and one retry. A refresh token the server refuses means the
  session is over: the user is told to log in again.
- 429 and 503 are retried after the server's ``Retry-After`` (capped), a few times, so uploads
  slow down instead of failing when the server asks for it.
- A server that cannot be reached is one clear line, not a traceback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from collections_cli.config import Session, TokenStore
from collections_cli.errors import ApiError, CliError

RETRY_STATUSES = frozenset({429, 503})
MAX_RETRIES = 6
MAX_RETRY_WAIT = 120.0


def retry_after(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait: the server's ``Retry-After`` (seconds), else exponential from 1 s."""
    header = response.headers.get("retry-after", "")
    try:
        seconds = float(header)
    except ValueError:
        seconds = 2.0**attempt
    return min(max(seconds, 0.5), MAX_RETRY_WAIT)


class ApiClient:
    """One server, one user's session (if logged in)."""

    def __init__(self, api: str, store: TokenStore, *, timeout: float = 60.0) -> None:
        self.api = api
        self.store = store
        self.session = store.load(api)
        self._http = httpx.AsyncClient(
            base_url=api, timeout=httpx.Timeout(timeout, connect=10.0), follow_redirects=False
        )
        self._refreshing = asyncio.Lock()
        self.retries = 0
        """How many times the server asked us to slow down or try again (429/503)."""

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._http.aclose()

    def require_session(self) -> Session:
        if self.session is None:
            raise CliError(f"not logged in to {self.api}: run `collections login` first")
        return self.session

    # --- accounts ------------------------------------------------------------------------------

    async def login(self, email: str, password: str) -> Session:
        body = await self.json(
            "POST", "/auth/login", auth=False, json={"email": email, "password": password}
        )
        self.session = self._session(email, body, None)
        self.store.save(self.api, self.session)
        return self.session

    async def logout(self) -> bool:
        """Sign out on the server (refresh tokens die) and forget the tokens here."""
        if self.session is None:
            return False
        try:
            await self.request("POST", "/auth/logout")
        except ApiError as error:
            if error.status != 401:  # an expired session is logged out already
                raise
        finally:
            self.store.forget(self.api)
            self.session = None
        return True

    def _session(self, email: str, body: Any, previous_refresh: str | None) -> Session:
        try:
            return Session(
                email=email,
                access_token=str(body["access_token"]),
                refresh_token=body.get("refresh_token") or previous_refresh,
                expires_at=time.time() + float(body.get("expires_in", 900)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise CliError(f"the server's login answer is not understood: {error}") from error

    async def _refresh(self, stale: Session) -> Session:
        async with self._refreshing:
            if self.session is not None and self.session.access_token != stale.access_token:
                return self.session  # another request refreshed it meanwhile
            if not stale.refresh_token:
                raise CliError("your session has expired: run `collections login` again")
            try:
                body = await self.json(
                    "POST", "/auth/refresh", auth=False, json={"refresh_token": stale.refresh_token}
                )
            except ApiError as error:
                if error.status in (400, 401):
                    self.store.forget(self.api)
                    raise CliError(
                        "your session has expired: run `collections login` again"
                    ) from error
                raise
            self.session = self._session(stale.email, body, stale.refresh_token)
            self.store.save(self.api, self.session)
            return self.session

    # --- requests ------------------------------------------------------------------------------

    async def _headers(self, auth: bool, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if auth:
            session = self.require_session()
            if session.expired():
                session = await self._refresh(session)
            headers["authorization"] = f"Bearer {session.access_token}"
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send; refresh once on 401, wait and retry on 429/503; :class:`ApiError` on 4xx/5xx."""
        refreshed = False
        for attempt in range(MAX_RETRIES + 1):
            sent = await self._headers(auth, headers)
            response = await self._send(method, path, sent, kwargs)
            if response.status_code == 401 and auth and not refreshed and self.session:
                refreshed = True
                await self._refresh(self.session)
                continue
            if response.status_code in RETRY_STATUSES and attempt < MAX_RETRIES:
                self.retries += 1
                await asyncio.sleep(retry_after(response, attempt))
                continue
            if response.status_code >= 400:
                raise ApiError.from_response(response.status_code, _body(response))
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    async def _send(
        self, method: str, path: str, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> httpx.Response:
        try:
            return await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException as error:
            raise CliError(f"{self.api} did not answer in time ({type(error).__name__})") from error
        except httpx.HTTPError as error:
            raise CliError(f"cannot reach the server at {self.api}: {error}") from error

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as error:
            raise CliError(f"{path}: the server's answer is not JSON") from error

    @asynccontextmanager
    async def stream(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        """A streamed response (server-sent events), after the same auth handling."""
        headers = await self._headers(True, kwargs.pop("headers", None))
        request = self._http.build_request(method, path, headers=headers, **kwargs)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as error:
            raise CliError(f"cannot reach the server at {self.api}: {error}") from error
        try:
            if response.status_code >= 400:
                await response.aread()
                raise ApiError.from_response(response.status_code, _body(response))
            yield response
        finally:
            await response.aclose()


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
