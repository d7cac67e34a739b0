"""LangGraph's checkpointer conformance suite, run against the DynamoDB saver on the emulator."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import BASE_CAPABILITIES, Capability

from collections_chat.checkpointer import DynamoDBSaver
from collections_devtools.testing.fixtures import AwsStack

TABLE = "collections-chat"


@pytest.mark.parametrize("capability", sorted(cap.value for cap in BASE_CAPABILITIES))
async def test_the_saver_passes_the_conformance_suite(aws: AwsStack, capability: str) -> None:
    """Every test of a base capability (put, writes, get, list, delete) passes; none is skipped.

    Each suite gets a saver of a fresh owner, so suites never see each other's threads. The
    extended capabilities (copy, prune, delete for runs) are not implemented: the suite skips them.
    """
    async with aws.clients.client("dynamodb") as client:

        @checkpointer_test(name=f"DynamoDBSaver-{capability}")
        async def saver() -> AsyncIterator[DynamoDBSaver]:
            yield DynamoDBSaver(
                client, table=TABLE, owner=f"conformance-{uuid.uuid4().hex}", ttl_seconds=3600
            )

        report = await validate(saver, capabilities={capability})
    result: Any = report.results[Capability(capability).value]
    assert result.tests_passed > 0
    assert (0, 0) == (result.tests_failed, result.tests_skipped), result.failures
