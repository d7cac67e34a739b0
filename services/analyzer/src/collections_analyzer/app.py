"""The analyzer worker: consumes ImageProcessed and AnalysisRequested events, serves /health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from collections_analyzer.handlers import AnalyzerHandler
from collections_analyzer.metered import MeteredProvider
from collections_analyzer.providers.chain import ProviderChain, ProviderSettings, build_chain
from collections_analyzer.settings import ENV_PREFIX, Settings
from collections_shared.http import create_service_app
from collections_shared.runtime import open_runtime
from collections_shared.settings import load_settings
from collections_shared.worker import MessageWorker, parse_event_message


def create_app(
    settings: Settings | None = None, providers: ProviderSettings | None = None
) -> Litestar:
    """Build the app; settings default to the environment."""
    settings = settings or load_settings(Settings, prefix=ENV_PREFIX)
    providers = providers or load_settings(ProviderSettings, prefix=ENV_PREFIX)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime:
            built = build_chain(providers, runtime.degradations)
            chain = ProviderChain(
                [MeteredProvider(each) for each in built.providers], providers, built.degradations
            )
            runtime.stack.push_async_callback(chain.aclose)
            s3 = await runtime.client("s3")
            publisher = await runtime.publisher("analyzer")
            handler = AnalyzerHandler(runtime.pool, s3, publisher, chain, bucket=settings.bucket)
            worker = MessageWorker(
                parse=parse_event_message, dispatch=handler.dispatch, fail=handler.fail
            )
            await runtime.start_worker(settings, worker)
            app.state.update(
                runtime=runtime,
                chain=chain,
                health_checks=runtime.health_checks,
                degradations=runtime.degradations,
            )
            yield

    return create_service_app(
        service="analyzer", route_handlers=[], lifespan=[lifespan], openapi=False
    )
