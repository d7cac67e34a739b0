"""Dependency providers: each reads a long-lived object from the app state or the request."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from collections_gateway.limits import Limiter
from collections_shared.auth import Principal
from collections_shared.http_auth import verified_principal


async def provide_principal(request: Request[Any, Any, State]) -> Principal:
    """The verified caller; 401 otherwise. Also applies the per-user rate limit."""
    principal = await verified_principal(request)
    limiter: Limiter = request.app.state.limiter
    await limiter.check_rate(principal.user_id)
    return principal


def _from_state(attribute: str, *, signed_in: bool = True) -> Provide:
    """A provider of one long-lived object of the app state.

    ``signed_in`` providers depend on the principal: Litestar then resolves the two in order
    instead of spawning a task group for every request (measured: docs/performance.md), and no
    service is handed out before the caller is verified.
    """
    if signed_in:

        def provide_signed_in(state: State, principal: Principal) -> Any:
            return getattr(state, attribute)

        return Provide(provide_signed_in, sync_to_thread=False)

    def provide(state: State) -> Any:
        return getattr(state, attribute)

    return Provide(provide, sync_to_thread=False)


DEPENDENCIES = {
    "principal": Provide(provide_principal),
    "items": _from_state("items_service"),
    "uploads": _from_state("uploads_service"),
    "analyses": _from_state("analyses_service"),
    "account": _from_state("account_service"),
    "albums": _from_state("albums_service"),
    "bulk": _from_state("bulk_service"),
    # No principal: a link's visitors have no account (the link has its own rate limit).
    "shared_links": _from_state("shared_links", signed_in=False),
    "identity": _from_state("identity", signed_in=False),
    "feed": _from_state("feed", signed_in=False),
    "search": _from_state("search", signed_in=False),
    "chat": _from_state("chat", signed_in=False),
    "limiter": _from_state("limiter", signed_in=False),
}
