"""An in-process gateway on a real database and the AWS emulator, with two signed-up users.

Its search and chat upstreams are a port the test holds closed (refused at once), never the
default ports, where a running ``make up`` would answer.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from collections_devtools.testing.api import ApiUser, sign_up
from collections_devtools.testing.client import TestClient
from collections_devtools.testing.fixtures import AwsStack, DatabaseUnderTest
from collections_devtools.testing.library import Library
from collections_gateway.app import create_app
from collections_gateway.settings import Settings


def gateway_settings(
    database: DatabaseUnderTest, aws: AwsStack, closed_port: int, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "search_url": f"http://127.0.0.1:{closed_port}",
        "chat_url": f"http://127.0.0.1:{closed_port}",
        "database_url": database.app_dsn,
        "aws_endpoint_url": aws.endpoint,
        "cognito_user_pool_id": aws.outputs.user_pool_id,
        "cognito_client_id": aws.outputs.app_client_id,
        "local_signup_auto_confirm": True,
        "log_format": "json",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(name="client")
async def fx_client(
    database: DatabaseUnderTest, aws: AwsStack, closed_port: int
) -> AsyncIterator[TestClient]:
    app = create_app(gateway_settings(database, aws, closed_port))
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.fixture(name="gateway")
def fx_gateway(database: DatabaseUnderTest, aws: AwsStack, closed_port: int) -> Callable[..., Any]:
    """Start an in-process gateway with some settings changed: ``async with gateway(x=1)``."""

    @asynccontextmanager
    async def start(**overrides: object) -> AsyncIterator[TestClient]:
        app = create_app(gateway_settings(database, aws, closed_port, **overrides))
        async with AsyncTestClient(app=app) as client:
            yield client

    return start


@pytest.fixture(name="alice")
async def fx_alice(client: TestClient) -> ApiUser:
    return await sign_up(client, f"alice-{uuid.uuid4().hex[:8]}@example.com")


@pytest.fixture(name="bob")
async def fx_bob(client: TestClient) -> ApiUser:
    return await sign_up(client, f"bob-{uuid.uuid4().hex[:8]}@example.com")


@pytest.fixture(name="library")
def fx_library(
    client: TestClient,
    database: DatabaseUnderTest,
    aws: AwsStack,
) -> Library:
    return Library(client, database, aws)
