"""The ingest service's ASGI app: resources opened in the lifespan, routes, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from collections_ingest.settings import ENV_PREFIX, Settings
from collections_shared.http import create_service_app
from collections_shared.runtime import open_runtime
from collections_shared.settings import load_settings


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; settings default to the environment."""
    settings = settings or load_settings(Settings, prefix=ENV_PREFIX)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime:
            app.state.runtime = runtime
            app.state.health_checks = runtime.health_checks
            yield

    return create_service_app(service="ingest", route_handlers=[], lifespan=[lifespan])
