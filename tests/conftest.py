"""The whole local stack (six services as processes) for cross-service tests, once per session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from collections_shared.devstack.stack import LocalStack
from collections_shared.testing.stack import stack_config


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalStack]:
    """One running system shared by the cross-service tests (each test uses its own users)."""
    running = LocalStack(stack_config(tmp_path_factory.mktemp("stack") / "state"))
    try:
        await running.start()
        yield running
    finally:
        await running.stop()
