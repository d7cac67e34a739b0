"""The search service's ASGI app (internal; the gateway forwards the caller's token)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide

from collections_embeddings.factory import EmbeddingSettings, build_provider
from collections_embeddings.metered import MeteredEmbeddings
from collections_search.agentic import Clock
from collections_search.routes import search
from collections_search.service import SearchService
from collections_search.settings import ENV_PREFIX, Settings
from collections_shared.auth import TokenVerifier
from collections_shared.http import create_service_app
from collections_shared.http_auth import verified_principal
from collections_shared.llm import build_claude
from collections_shared.logging import get_logger
from collections_shared.runtime import open_runtime
from collections_shared.settings import load_settings

log = get_logger(__name__)


def _searcher(state: State) -> SearchService:
    service: SearchService = state.searcher
    return service


def create_app(
    settings: Settings | None = None,
    embedding: EmbeddingSettings | None = None,
    *,
    clock: Clock | None = None,
) -> Litestar:
    """Build the app; settings default to the environment, the clock to the system's."""
    settings = settings or load_settings(Settings, prefix=ENV_PREFIX)
    embedding = embedding or load_settings(EmbeddingSettings, prefix=ENV_PREFIX)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime, httpx.AsyncClient() as http:
            s3 = await runtime.client("s3")
            provider = MeteredEmbeddings(build_provider(embedding), embedding.resolved_provider())
            claude = build_claude(settings.claude())
            if claude is not None:
                runtime.stack.push_async_callback(claude.aclose)
            log.info("search_llm_selected", provider=claude.provider if claude else "none")
            app.state.update(
                runtime=runtime,
                verifier=TokenVerifier(settings.verifier_config(), http),
                searcher=SearchService(
                    runtime.pool, provider, s3, settings, claude=claude, clock=clock
                ),
                health_checks=runtime.health_checks,
            )
            yield

    return create_service_app(
        service="search",
        route_handlers=[search],
        lifespan=[lifespan],
        dependencies={
            "principal": Provide(verified_principal),
            "searcher": Provide(_searcher, sync_to_thread=False),
        },
        request_max_body_size=64 * 1024,
    )
