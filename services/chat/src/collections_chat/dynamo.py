"""Small helpers over the low-level aioboto3 DynamoDB client: paged queries, batched writes.

Only key-based operations are used (Query, GetItem, PutItem, UpdateItem, BatchWriteItem): the
service's IAM policy has no Scan, so no code path can read across users' partitions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

Item = dict[str, Any]
"""An item in DynamoDB's typed wire form: ``{"pk": {"S": "..."}, "n": {"N": "1"}}``."""

_BATCH_SIZE = 25  # BatchWriteItem's limit
_UNPROCESSED_ATTEMPTS = 8


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int | float) -> dict[str, str]:
    return {"N": str(value)}


def b(value: bytes) -> dict[str, bytes]:
    return {"B": value}


def text(item: Item, name: str, default: str = "") -> str:
    value = item.get(name)
    return str(value["S"]) if value and "S" in value else default


def number(item: Item, name: str, default: int = 0) -> int:
    value = item.get(name)
    return int(value["N"]) if value and "N" in value else default


def blob(item: Item, name: str) -> bytes:
    value = item.get(name)
    return bytes(value["B"]) if value and "B" in value else b""


def live(item: Item, now: float) -> bool:
    """Not past its TTL. DynamoDB deletes expired items lazily (and moto never), so every read
    checks the expiry itself."""
    return number(item, "expires_at", default=0) > now


async def query_pages(client: Any, **kwargs: Any) -> AsyncIterator[Item]:
    """Every item a Query matches, following ``LastEvaluatedKey`` across pages."""
    while True:
        response = await client.query(**kwargs)
        for item in response.get("Items", []):
            yield item
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last


async def batch_write(client: Any, table: str, requests: Sequence[Item]) -> None:
    """BatchWriteItem in chunks of 25, retrying unprocessed items with a short backoff."""
    for start in range(0, len(requests), _BATCH_SIZE):
        pending: list[Item] = list(requests[start : start + _BATCH_SIZE])
        for attempt in range(_UNPROCESSED_ATTEMPTS):
            response = await client.batch_write_item(RequestItems={table: pending})
            pending = response.get("UnprocessedItems", {}).get(table, [])
            if not pending:
                break
            await asyncio.sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise RuntimeError(f"DynamoDB left {len(pending)} writes unprocessed")


async def delete_partition(client: Any, table: str, pk: str) -> int:
    """Delete every item under ``pk`` (expired or not); returns how many there were."""
    keys = [
        {"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}}
        async for item in query_pages(
            client,
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": s(pk)},
            ProjectionExpression="pk, sk",
        )
    ]
    await batch_write(client, table, keys)
    return len(keys)
