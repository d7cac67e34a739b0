"""Breaking a running local stack on purpose: dependencies down, services reconfigured, queues read.

Everything goes through the stack's own supervision (:class:`ManagedProcess`): a service restarted
here is the same command with a changed environment, and PostgreSQL brought back is the same
server on the same data directory, so what a test sees afterwards is what ``make up`` would do.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from collections_devtools.local.processes import ManagedProcess
from collections_devtools.local.readiness import wait_for_http, wait_for_postgres
from collections_devtools.local.stack import LocalStack
from collections_shared.aws import AwsClients

WORKER_QUEUES = ("collections-ingest", "collections-analyzer", "collections-embedder")


@contextmanager
def restartable_home(prefix: str) -> Iterator[Path]:
    """A stack home outside pytest's temporary root, removed afterwards.

    PostgreSQL runs as another account (``nobody`` under root) and must traverse every parent of
    its data directory each time it starts. Any new pytest session resets the mode of pytest's
    ``pytest-of-<user>`` folder to 0700, so a stack under it can start but not *restart* its
    database. Stacks whose tests restart PostgreSQL live here instead.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"collections-{prefix}-"))
    try:
        yield folder / "state"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def wait_healthy(stack: LocalStack, service: str, within: float = 90) -> None:
    """Until the service's ``/health`` answers 200."""
    await wait_for_http(f"{stack.url(service)}/health", service, within, ready=lambda s: s == 200)


async def restart_service(stack: LocalStack, service: str, **env: str) -> None:
    """SIGTERM ``service`` with ``env`` changed; the supervisor starts it again with it."""
    process = stack.processes[service]
    old_pid = process.pid
    process.spec.env.update(env)
    process.kill(signal.SIGTERM)
    deadline = time.monotonic() + 60
    while (
        process.pid == old_pid or process.process is None or process.process.returncode is not None
    ):
        if time.monotonic() > deadline:
            msg = f"{service} was not restarted within 60 s"
            raise AssertionError(msg)
        await asyncio.sleep(0.1)
    await wait_healthy(stack, service)


async def wait_for_database(stack: LocalStack, within: float = 60) -> None:
    """Until PostgreSQL accepts the owner's connections."""
    await wait_for_postgres(stack.owner_database_url(), within)


@asynccontextmanager
async def postgres_down(stack: LocalStack) -> AsyncIterator[None]:
    """PostgreSQL stopped (a fast shutdown) for the body, then started again and accepting."""
    stopped = stack.processes["postgres"]
    await stopped.stop()
    try:
        yield
    finally:
        started = ManagedProcess(stopped.spec, stack.console)
        stack.processes["postgres"] = started
        await started.start()
        await wait_for_database(stack)


async def queue_depths(stack: LocalStack, *, dead_letters: bool = False) -> dict[str, int]:
    """Messages in each worker queue (visible and in flight), or in each DLQ."""
    assert stack.outputs is not None
    urls = stack.outputs.dlq_urls if dead_letters else stack.outputs.queue_urls
    aws = AwsClients(region="us-east-1", endpoint_url=stack.config.aws_endpoint)
    depths: dict[str, int] = {}
    async with aws.client("sqs") as sqs:
        for name in WORKER_QUEUES:
            response = await sqs.get_queue_attributes(
                QueueUrl=urls[name],
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )
            attributes = response["Attributes"]
            depths[name] = int(attributes["ApproximateNumberOfMessages"]) + int(
                attributes["ApproximateNumberOfMessagesNotVisible"]
            )
    return depths
