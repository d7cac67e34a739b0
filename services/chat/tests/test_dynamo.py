"""The chat table helpers: plain values both ways, one query for every read, batched writes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from collections_chat import dynamo
from collections_devtools.testing.fixtures import AwsStack

TABLE = "collections-chat"


def test_items_cross_as_plain_values() -> None:
    """Strings, integers and bytes go out typed and come back as the same Python values."""
    item = {"pk": "USER#a", "sk": "SESSION#b", "count": 3, "blob": b"\x00\xff", "title": ""}
    wire = dynamo.to_wire(item)
    assert {"N": "3"} == wire["count"]
    assert {"B": b"\x00\xff"} == wire["blob"]
    assert item == dynamo.from_wire(wire)
    assert isinstance(dynamo.from_wire(wire)["count"], int)


def test_an_item_past_its_expiry_is_not_live() -> None:
    """An item is live strictly before its expires_at; one without it never is."""
    assert dynamo.live({"expires_at": 101}, now=100.5)
    assert not dynamo.live({"expires_at": 100}, now=100.5)
    assert not dynamo.live({}, now=0)


@pytest.fixture(name="client")
async def fx_client(aws: AwsStack) -> AsyncIterator[Any]:
    async with aws.clients.client("dynamodb") as client:
        yield client


async def test_query_reads_every_page_in_either_order(client: Any) -> None:
    """Past DynamoDB's 1 MB page the paginator goes on; newest_first and limit are honoured."""
    pk = f"USER#{uuid.uuid4()}"
    blob = b"x" * 100_000  # 12 items of 100 kB need two pages
    for n in range(12):  # one by one: a batch of them would be a body aiohttp warns about
        await dynamo.write_batch(
            client, TABLE, puts=[{"pk": pk, "sk": f"SESSION#{n:02}", "b": blob}]
        )
    await dynamo.write_batch(client, TABLE, puts=[{"pk": pk, "sk": "OTHER#1"}])
    pages = client.get_paginator("query").paginate(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )
    assert 2 <= len([page async for page in pages])
    oldest_first = [item["sk"] async for item in dynamo.query(client, TABLE, pk, "SESSION#")]
    newest = [
        item["sk"]
        async for item in dynamo.query(client, TABLE, pk, "SESSION#", newest_first=True, limit=2)
    ]
    assert [f"SESSION#{n:02}" for n in range(12)] == oldest_first
    assert ["SESSION#11", "SESSION#10"] == newest


async def test_batches_of_any_size_and_repeated_keys_are_written(client: Any) -> None:
    """60 puts (three BatchWriteItem calls) land; a key named twice keeps its last value."""
    pk = f"USER#{uuid.uuid4()}"
    puts = [{"pk": pk, "sk": f"S#{n:02}", "n": n} for n in range(60)]
    await dynamo.write_batch(client, TABLE, puts=[*puts, {"pk": pk, "sk": "S#00", "n": 99}])
    first = await dynamo.get(client, TABLE, pk, "S#00")
    assert first is not None
    assert 99 == first["n"]
    assert 60 == await dynamo.delete_partition(client, TABLE, pk)
    assert [] == [item async for item in dynamo.query(client, TABLE, pk)]
    assert 0 == await dynamo.delete_partition(client, TABLE, pk)
