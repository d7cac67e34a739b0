"""The gateway's ASGI app: the only public service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from typing import Any

import httpx
from litestar import Litestar

from collections_gateway.account import AccountService
from collections_gateway.albums import AlbumsService
from collections_gateway.analyses import AnalysesService
from collections_gateway.bulk import BulkService
from collections_gateway.deps import DEPENDENCIES
from collections_gateway.identity import IdentityService
from collections_gateway.items import ItemsService
from collections_gateway.limits import Limiter, open_limiter_pool
from collections_gateway.routes.account import ACCOUNT_ROUTES
from collections_gateway.routes.albums import AlbumsController
from collections_gateway.routes.analyses import AnalysesController
from collections_gateway.routes.auth import AuthController
from collections_gateway.routes.events import status_events
from collections_gateway.routes.forward import FORWARD_ROUTES
from collections_gateway.routes.items import IndexController, ItemsController
from collections_gateway.routes.library import LibraryController
from collections_gateway.routes.shared import SHARED_ROUTES
from collections_gateway.routes.ui import UI_ROUTES
from collections_gateway.s3objects import S3Objects
from collections_gateway.settings import ENV_PREFIX, Settings
from collections_gateway.sharing import SharedLinks
from collections_gateway.status_feed import StatusFeed
from collections_gateway.uploads import UploadsService
from collections_gateway.upstream import Upstream
from collections_shared.auth import TokenVerifier
from collections_shared.aws import bucket_check, event_bus_check
from collections_shared.http import create_service_app
from collections_shared.runtime import open_runtime
from collections_shared.settings import load_settings

_MULTIPART_OVERHEAD = 1024 * 1024


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; settings default to the environment."""
    settings = settings or load_settings(Settings, prefix=ENV_PREFIX)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with (
            open_runtime(settings) as runtime,
            httpx.AsyncClient(timeout=settings.upstream_timeout_seconds) as http,
        ):
            s3 = await runtime.client("s3")
            events = await runtime.client("events")
            cognito = await runtime.client("cognito-idp")
            signer = (
                await runtime.aws.open(
                    runtime.stack, "s3", endpoint_url=settings.public_s3_endpoint
                )
                if settings.public_s3_endpoint
                else s3
            )
            objects = S3Objects(
                s3, bucket=settings.bucket, url_expiry=settings.url_expiry_seconds, signer=signer
            )
            publisher = await runtime.publisher("gateway")
            chat = Upstream(http, settings.chat_url, "chat")
            verifier_config = settings.verifier_config()
            feed = StatusFeed(settings.database_url)
            feed.start()
            runtime.stack.push_async_callback(feed.stop)
            limiter_pool = await open_limiter_pool(settings.database_url)
            runtime.stack.push_async_callback(limiter_pool.close)
            limiter = Limiter(
                limiter_pool,
                per_minute=settings.rate_limit_per_minute,
                daily_uploads=settings.daily_upload_quota,
                daily_llm_calls=settings.daily_llm_quota,
            )
            runtime.stack.push_async_callback(limiter.close)
            _run_in_background(runtime.stack, limiter.prune_forever(), "limits-prune")
            items = ItemsService(runtime.pool, objects, publisher)
            albums = AlbumsService(runtime.pool, objects)
            # Links have a budget per token, not per user: only the rate applies to them.
            link_limiter = Limiter(
                limiter_pool,
                per_minute=settings.share_rate_limit_per_minute,
                daily_uploads=0,
                daily_llm_calls=0,
            )
            runtime.stack.push_async_callback(link_limiter.close)
            app.state.update(
                runtime=runtime,
                verifier=TokenVerifier(verifier_config, http),
                items_service=items,
                analyses_service=AnalysesService(runtime.pool, publisher),
                albums_service=albums,
                bulk_service=BulkService(items, albums),
                shared_links=SharedLinks(runtime.pool, objects, link_limiter),
                public_url=settings.public_url,
                uploads_service=UploadsService(runtime.pool, objects, settings),
                account_service=AccountService(runtime.pool, objects, chat),
                identity=IdentityService(
                    cognito,
                    pool_id=settings.cognito_user_pool_id,
                    client_id=settings.cognito_client_id,
                    auto_confirm=settings.local_signup_auto_confirm,
                ),
                limiter=limiter,
                feed=feed,
                search=Upstream(http, settings.search_url, "search"),
                chat=chat,
            )
            runtime.health_checks.update(
                bucket=bucket_check(s3, settings.bucket),
                event_bus=event_bus_check(events, settings.event_bus),
                identity=partial(_fetch, http, verifier_config.jwks_url),
            )
            app.state.health_checks = runtime.health_checks
            yield

    return create_service_app(
        service="gateway",
        route_handlers=[
            AuthController,
            ItemsController,
            AnalysesController,
            LibraryController,
            IndexController,
            AlbumsController,
            *SHARED_ROUTES,
            status_events,
            *ACCOUNT_ROUTES,
            *FORWARD_ROUTES,
            *UI_ROUTES,
        ],
        lifespan=[lifespan],
        dependencies=DEPENDENCIES,
        openapi=settings.openapi_enabled,
        cors_origins=settings.cors_origin_list(),
        request_max_body_size=settings.max_upload_bytes + _MULTIPART_OVERHEAD,
        multipart_form_part_limit=8,
        public=True,
    )


def _run_in_background(stack: AsyncExitStack, work: Coroutine[Any, Any, None], name: str) -> None:
    """Run ``work`` until the stack closes, then cancel it."""
    task = asyncio.create_task(work, name=name)

    async def cancel() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(cancel)


async def _fetch(http: httpx.AsyncClient, url: str) -> None:
    (await http.get(url, timeout=3)).raise_for_status()
