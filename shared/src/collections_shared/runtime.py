"""The long-lived resources of one service process, opened in its lifespan and closed with it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import asyncpg

from collections_shared.aws import AwsClients, queue_check
from collections_shared.db import Pool, create_pool, ping
from collections_shared.health import Degradations, HealthCheck
from collections_shared.publisher import EventPublisher
from collections_shared.settings import CommonSettings, WorkerSettings
from collections_shared.sqs import ConsumerConfig, ReceivedMessage, SqsConsumer
from collections_shared.worker import consumer_alive, running_consumer


@dataclass
class Runtime:
    """Database pool, AWS clients and health checks shared by a service's handlers."""

    settings: CommonSettings
    pool: Pool
    aws: AwsClients
    stack: AsyncExitStack
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)
    degradations: Degradations = field(default_factory=Degradations)
    """Components on a fallback (a provider rejecting its key): ``/health`` says ``degraded``."""
    _clients: dict[str, Any] = field(default_factory=dict)

    async def client(self, service: str) -> Any:
        """An AWS client for ``service``, opened once per process."""
        if service not in self._clients:
            self._clients[service] = await self.aws.open(self.stack, service)
        return self._clients[service]

    async def publisher(self, source_service: str) -> EventPublisher:
        """A publisher to the event bus with source ``collections.<service>``."""
        events = await self.client("events")
        return EventPublisher(
            events, bus_name=self.settings.event_bus, source=f"collections.{source_service}"
        )

    async def start_consumer(
        self, config: ConsumerConfig, handler: Callable[[ReceivedMessage], Awaitable[None]]
    ) -> SqsConsumer:
        """Run an SQS consumer until the runtime closes; it is part of ``/health``."""
        sqs = await self.client("sqs")
        consumer = await self.stack.enter_async_context(
            running_consumer(sqs, config, handler, ready=self.database_ready)
        )
        self.health_checks["queue"] = queue_check(sqs, config.queue_url)
        self.health_checks["consumer"] = consumer_alive(consumer)
        return consumer

    async def start_worker(
        self, settings: WorkerSettings, handler: Callable[[ReceivedMessage], Awaitable[None]]
    ) -> SqsConsumer:
        """Consume the worker's queue with the settings' concurrency and timeouts."""
        url = settings.queue_url or await self.queue_url(settings.queue_name)
        config = ConsumerConfig(
            queue_url=url,
            concurrency=settings.concurrency,
            wait_seconds=settings.wait_seconds,
            visibility_timeout=settings.visibility_timeout,
            max_receive_count=settings.max_receive_count,
            drain_timeout=settings.drain_timeout_seconds,
        )
        return await self.start_consumer(config, handler)

    async def database_ready(self) -> bool:
        """Whether PostgreSQL answers; workers stop receiving while it does not."""
        try:
            await ping(self.pool)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True

    async def queue_url(self, queue_name: str) -> str:
        """Resolve a queue's URL from its name."""
        sqs = await self.client("sqs")
        response = await sqs.get_queue_url(QueueName=queue_name)
        url: str = response["QueueUrl"]
        return url


@asynccontextmanager
async def open_runtime(settings: CommonSettings, *, pool_size: int = 10) -> AsyncIterator[Runtime]:
    """Open the pool and the AWS client factory; close everything on exit, newest first."""
    async with AsyncExitStack() as stack:
        # min_size=0: the process starts even while PostgreSQL is down, and /health says so.
        pool = await create_pool(settings.database_url, min_size=0, max_size=pool_size)
        stack.push_async_callback(pool.close)
        aws = AwsClients(region=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
        runtime = Runtime(settings=settings, pool=pool, aws=aws, stack=stack)
        runtime.health_checks["database"] = partial(ping, pool)
        yield runtime
