"""The whole local stack (six services as processes) for cross-service tests, once per session.

``api`` and ``user`` serve every module; a module with a stack of its own overrides ``api``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import ApiUser, sign_up
from collections_devtools.testing.stack import gateway_client, running_stack


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalStack]:
    """One running system shared by the cross-service tests (each test uses its own users)."""
    async with running_stack(tmp_path_factory.mktemp("stack") / "state") as running:
        yield running


@pytest.fixture(name="api")
async def fx_api(stack: LocalStack) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(stack) as client:
        yield client


@pytest.fixture(name="user")
async def fx_user(api: httpx.AsyncClient) -> ApiUser:
    return await sign_up(api, f"e2e-{uuid.uuid4().hex[:10]}@example.com")
