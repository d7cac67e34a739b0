"""Dependency providers: each reads a long-lived object from the app state or the request."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from collections_gateway.account import AccountService
from collections_gateway.albums import AlbumsService
from collections_gateway.analyses import AnalysesService
from collections_gateway.bulk import BulkService
from collections_gateway.identity import IdentityService
from collections_gateway.items import ItemsService
from collections_gateway.limits import Limiter
from collections_gateway.sharing import SharedLinks
from collections_gateway.status_feed import StatusFeed
from collections_gateway.uploads import UploadsService
from collections_gateway.upstream import Upstream
from collections_shared.auth import Principal
from collections_shared.http_auth import verified_principal


async def provide_principal(request: Request[Any, Any, State]) -> Principal:
    """The verified caller; 401 otherwise. Also applies the per-user rate limit."""
    principal = await verified_principal(request)
    limiter: Limiter = request.app.state.limiter
    await limiter.check_rate(principal.user_id)
    return principal


def provide_items(state: State, principal: Principal) -> ItemsService:
    # Depending on the principal makes Litestar resolve the two in order instead of spawning a
    # task group for every request (measured: docs/performance.md).
    service: ItemsService = state.items_service
    return service


def provide_analyses(state: State, principal: Principal) -> AnalysesService:
    service: AnalysesService = state.analyses_service
    return service


def provide_uploads(state: State, principal: Principal) -> UploadsService:
    service: UploadsService = state.uploads_service
    return service


def provide_account(state: State, principal: Principal) -> AccountService:
    service: AccountService = state.account_service
    return service


def provide_albums(state: State, principal: Principal) -> AlbumsService:
    service: AlbumsService = state.albums_service
    return service


def provide_bulk(state: State, principal: Principal) -> BulkService:
    service: BulkService = state.bulk_service
    return service


def provide_shared_links(state: State) -> SharedLinks:
    """No principal: a link's visitors have no account (the link has its own rate limit)."""
    links: SharedLinks = state.shared_links
    return links


def provide_identity(state: State) -> IdentityService:
    service: IdentityService = state.identity
    return service


def provide_feed(state: State) -> StatusFeed:
    feed: StatusFeed = state.feed
    return feed


def provide_search(state: State) -> Upstream:
    upstream: Upstream = state.search
    return upstream


def provide_chat(state: State) -> Upstream:
    upstream: Upstream = state.chat
    return upstream


def provide_limiter(state: State) -> Limiter:
    limiter: Limiter = state.limiter
    return limiter


DEPENDENCIES = {
    "principal": Provide(provide_principal),
    "items": Provide(provide_items, sync_to_thread=False),
    "uploads": Provide(provide_uploads, sync_to_thread=False),
    "analyses": Provide(provide_analyses, sync_to_thread=False),
    "account": Provide(provide_account, sync_to_thread=False),
    "albums": Provide(provide_albums, sync_to_thread=False),
    "bulk": Provide(provide_bulk, sync_to_thread=False),
    "shared_links": Provide(provide_shared_links, sync_to_thread=False),
    "identity": Provide(provide_identity, sync_to_thread=False),
    "feed": Provide(provide_feed, sync_to_thread=False),
    "search": Provide(provide_search, sync_to_thread=False),
    "chat": Provide(provide_chat, sync_to_thread=False),
    "limiter": Provide(provide_limiter, sync_to_thread=False),
}
