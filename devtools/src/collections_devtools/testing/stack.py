"""Configuring a throwaway local stack for cross-service tests."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from collections_devtools.local.stack import SERVICES, LocalStack, StackConfig
from collections_devtools.testing.fixtures import free_port


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port() -> int:
    """A port from which the six service ports are all free."""
    while True:
        base = free_port()
        if all(_bindable(base + offset) for offset in range(len(SERVICES))):
            return base


def _free_port_outside(taken: set[int]) -> int:
    while (port := free_port()) in taken:
        pass
    return port


def stack_config(home: Path, **extra_env: str) -> StackConfig:
    """Free ports, quiet logs, local providers only, a short stuck-item timeout."""
    home.parent.chmod(0o755)  # the PostgreSQL server account must reach its data directory
    base = free_base_port()
    # Free now is not enough: PostgreSQL or the emulator on a service's port would leave that
    # service unable to bind, and the stack unhealthy for the whole timeout.
    taken = set(range(base, base + len(SERVICES)))
    pg_port = _free_port_outside(taken)
    return StackConfig(
        home=home,
        base_port=base,
        pg_port=pg_port,
        aws_port=_free_port_outside(taken | {pg_port}),
        external_database_url=None,
        external_aws_endpoint=None,
        echo_logs=False,
        health_timeout=180,
        # Tests never call a paid API, whatever the developer has exported.
        extra_env={
            "ANTHROPIC_API_KEY": "",
            "VOYAGE_API_KEY": "",
            "TAVILY_API_KEY": "",
            "BEDROCK_MODEL": "",
            "INGEST_STUCK_AFTER_SECONDS": "30",
            **extra_env,
        },
    )


@asynccontextmanager
async def running_stack(home: Path, **extra_env: str) -> AsyncIterator[LocalStack]:
    """A started stack configured by `stack_config`; stopped on the way out, whatever happens."""
    stack = LocalStack(stack_config(home, **extra_env))
    try:
        await stack.start()
        yield stack
    finally:
        await stack.stop()


@asynccontextmanager
async def gateway_client(
    stack: LocalStack, request_timeout: float = 60
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the stack's gateway."""
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=request_timeout) as client:
        yield client
