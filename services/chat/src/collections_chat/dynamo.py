"""The chat table through boto3's own DynamoDB tools, on the low-level aioboto3 client.

Items cross this module as plain Python values: boto3's ``TypeSerializer`` and
``TypeDeserializer`` do the typed wire form, the client's ``query`` paginator follows
``LastEvaluatedKey``, and aioboto3's ``BatchWriter`` chunks writes by 25 and re-sends what
DynamoDB left unprocessed. The table resource would do the marshalling itself but has no
paginators, so the client it is.

Only key-based operations are used (Query, GetItem, PutItem, UpdateItem, BatchWriteItem): the
service's IAM policy has no Scan, so no code path can read across users' partitions.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aioboto3.dynamodb.table import BatchWriter
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient
    from types_aiobotocore_dynamodb.type_defs import PaginatorConfigTypeDef

Item = dict[str, Any]
"""An item as plain values: ``str``, ``int`` (we store no fractional numbers), ``bytes``."""

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
# Sleep between flushes on exit while DynamoDB keeps leaving writes unprocessed (throttling).
_UNPROCESSED_BACKOFF_SECONDS = 0.05


def to_wire(values: Mapping[str, Any]) -> dict[str, Any]:
    """Attribute values (or ``:placeholder`` values) in DynamoDB's typed form."""
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_wire(item: Mapping[str, Any]) -> Item:
    """A wire item as plain values."""
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Binary):
        return bytes(value.value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def key(pk: str, sk: str) -> dict[str, Any]:
    """The wire form of an item's primary key."""
    return to_wire({"pk": pk, "sk": sk})


def live(item: Item, now: float) -> bool:
    """Not past its TTL. DynamoDB deletes expired items lazily (and moto never), so every read
    checks the expiry itself."""
    expires_at: int = item.get("expires_at", 0)
    return expires_at > now


async def get(client: DynamoDBClient, table: str, pk: str, sk: str) -> Item | None:
    """One item by key, strongly consistent."""
    response = await client.get_item(TableName=table, Key=key(pk, sk), ConsistentRead=True)
    item = response.get("Item")
    return from_wire(item) if item is not None else None


async def query(
    client: DynamoDBClient,
    table: str,
    pk: str,
    prefix: str = "",
    *,
    newest_first: bool = False,
    limit: int | None = None,
    projection: str | None = None,
) -> AsyncGenerator[Item, None]:
    """The items of partition ``pk`` whose sort key starts with ``prefix`` (all of them if it is
    empty), in sort-key order.

    Every read of the chat table is this one query: strongly consistent, page after page, at
    most ``limit`` items.
    """
    # A key condition cannot compare with an empty string, so no prefix is no condition on sk.
    values = {":pk": pk, ":prefix": prefix} if prefix else {":pk": pk}
    params: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)" if prefix else "pk = :pk",
        "ExpressionAttributeValues": to_wire(values),
        "ScanIndexForward": not newest_first,
        "ConsistentRead": True,
    }
    if projection:
        params["ProjectionExpression"] = projection
    pages: PaginatorConfigTypeDef = {"MaxItems": limit, "PageSize": limit} if limit else {}
    async for page in client.get_paginator("query").paginate(**params, PaginationConfig=pages):
        for item in page.get("Items", []):
            yield from_wire(item)


async def write_batch(
    client: DynamoDBClient,
    table: str,
    *,
    puts: Iterable[Mapping[str, Any]] = (),
    deletes: Iterable[tuple[str, str]] = (),
) -> None:
    """Put and delete items (``deletes`` as ``(pk, sk)``) with BatchWriteItem; a key named twice
    is written once (DynamoDB refuses a batch that names a key twice)."""
    async with BatchWriter(
        table,
        client,
        overwrite_by_pkeys=["pk", "sk"],
        on_exit_loop_sleep=_UNPROCESSED_BACKOFF_SECONDS,
    ) as batch:
        for item in puts:
            await batch.put_item(Item=to_wire(item))
        for pk, sk in deletes:
            await batch.delete_item(Key=key(pk, sk))


async def delete_partition(client: DynamoDBClient, table: str, pk: str) -> int:
    """Delete every item under ``pk`` (expired or not); returns how many there were."""
    keys = [
        (item["pk"], item["sk"]) async for item in query(client, table, pk, projection="pk, sk")
    ]
    await write_batch(client, table, deletes=keys)
    return len(keys)
