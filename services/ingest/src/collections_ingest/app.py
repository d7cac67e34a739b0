"""The ingest worker: consumes the ingest queue, serves /health, runs the reconciler."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from litestar import Litestar

from collections_ingest import repository
from collections_ingest.handlers import IngestHandler
from collections_ingest.messages import IngestWork, parse_ingest_message
from collections_ingest.reconciler import Reconciler
from collections_ingest.settings import ENV_PREFIX, Settings
from collections_shared.aws import bucket_check
from collections_shared.db import tenant_transaction
from collections_shared.http import create_service_app
from collections_shared.repository.items import refresh_item_counts
from collections_shared.runtime import open_runtime
from collections_shared.settings import load_settings
from collections_shared.worker import MessageWorker


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; settings default to the environment."""
    settings = settings or load_settings(Settings, prefix=ENV_PREFIX)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime:
            s3 = await runtime.client("s3")
            publisher = await runtime.publisher("ingest")
            handler = IngestHandler(runtime.pool, s3, publisher, settings)

            async def trace_parent(work: IngestWork) -> str:
                async with tenant_transaction(runtime.pool, work.user_id) as connection:
                    return await repository.upload_traceparent(connection, work.item_id)

            worker = MessageWorker(
                parse=parse_ingest_message,
                dispatch=handler.dispatch,
                fail=handler.fail,
                trace_parent=trace_parent,
            )
            await runtime.start_worker(settings, worker)
            reconciler = Reconciler(runtime.pool, s3, publisher, settings)
            stop = asyncio.Event()
            task = asyncio.create_task(reconciler.run(stop), name="reconciler")
            runtime.health_checks["bucket"] = bucket_check(s3, settings.bucket)
            app.state.update(
                runtime=runtime,
                reconciler=reconciler,
                health_checks=runtime.health_checks,
                # The pipeline's owner reports items per status; one service, so no double count.
                metrics_refreshers=[partial(refresh_item_counts, runtime.pool)],
            )
            try:
                yield
            finally:
                stop.set()
                await task

    return create_service_app(
        service="ingest", route_handlers=[], lifespan=[lifespan], openapi=False
    )
