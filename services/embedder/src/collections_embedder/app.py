"""The embedder worker: consumes AnalysisComplete and ReindexRequested events, serves /health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from collections_embedder.handlers import EmbedderHandler
from collections_embedder.settings import ENV_PREFIX, Settings
from collections_embeddings.factory import EmbeddingSettings, build_provider
from collections_embeddings.metered import MeteredEmbeddings
from collections_shared.http import create_service_app
from collections_shared.runtime import open_runtime
from collections_shared.settings import load_settings
from collections_shared.worker import MessageWorker, parse_event_message


def create_app(
    settings: Settings | None = None, embedding: EmbeddingSettings | None = None
) -> Litestar:
    """Build the app; settings default to the environment."""
    settings = settings or load_settings(Settings, prefix=ENV_PREFIX)
    embedding = embedding or load_settings(EmbeddingSettings, prefix=ENV_PREFIX)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime:
            provider = MeteredEmbeddings(build_provider(embedding), embedding.resolved_provider())
            publisher = await runtime.publisher("embedder")
            handler = EmbedderHandler(runtime.pool, publisher, provider, runtime.degradations)
            worker = MessageWorker(
                parse=parse_event_message, dispatch=handler.dispatch, fail=handler.fail
            )
            await runtime.start_worker(settings, worker)
            app.state.update(
                runtime=runtime,
                provider=provider,
                health_checks=runtime.health_checks,
                degradations=runtime.degradations,
            )
            yield

    return create_service_app(
        service="embedder", route_handlers=[], lifespan=[lifespan], openapi=False
    )
