"""The DynamoDB checkpointer against the emulator: round trips, listing, writes, isolation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from langgraph.checkpoint.base import Checkpoint, CheckpointMetadata, empty_checkpoint
from langgraph.checkpoint.base.id import uuid6

from collections_chat.checkpointer import CheckpointTooLargeError, DynamoDBSaver
from collections_devtools.testing.fixtures import AwsStack

TABLE = "collections-chat"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(name="dynamodb")
async def fx_dynamodb(aws: AwsStack) -> AsyncIterator[Any]:
    async with aws.clients.client("dynamodb") as client:
        yield client


@pytest.fixture(name="clock")
def fx_clock() -> Clock:
    return Clock()


def saver_for(dynamodb: Any, clock: Clock, owner: str | None = None) -> DynamoDBSaver:
    return DynamoDBSaver(
        dynamodb, table=TABLE, owner=owner or str(uuid.uuid4()), ttl_seconds=3600, clock=clock
    )


def checkpoint(messages: list[str]) -> Checkpoint:
    value = empty_checkpoint()
    value["id"] = str(uuid6())
    value["channel_values"] = {"messages": messages}
    value["channel_versions"] = {"messages": len(messages)}
    return value


async def put(
    saver: DynamoDBSaver, thread: str, value: Checkpoint, parent: str | None = None, step: int = 0
) -> dict[str, Any]:
    config: dict[str, Any] = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    if parent:
        config["configurable"]["checkpoint_id"] = parent
    metadata: CheckpointMetadata = {"source": "loop", "step": step}
    stored: dict[str, Any] = await saver.aput(config, value, metadata, {})  # type: ignore[arg-type]
    return stored


def thread_config(thread: str, checkpoint_id: str | None = None) -> Any:
    configurable = {"thread_id": thread, "checkpoint_ns": ""}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


async def test_put_then_get_latest_and_by_id(dynamodb: Any, clock: Clock) -> None:
    """The latest checkpoint comes back with its values, metadata and parent; older ones by id."""
    saver = saver_for(dynamodb, clock)
    first, second = checkpoint(["hi"]), checkpoint(["hi", "hello"])
    await put(saver, "t1", first)
    stored = await put(saver, "t1", second, parent=first["id"], step=1)

    latest = await saver.aget_tuple(thread_config("t1"))
    older = await saver.aget_tuple(thread_config("t1", first["id"]))

    assert latest is not None
    assert older is not None
    assert stored == latest.config
    assert ["hi", "hello"] == latest.checkpoint["channel_values"]["messages"]
    assert 1 == latest.metadata["step"]
    assert latest.parent_config is not None
    assert first["id"] == latest.parent_config["configurable"]["checkpoint_id"]
    assert ["hi"] == older.checkpoint["channel_values"]["messages"]
    assert older.parent_config is None
    assert await saver.aget_tuple(thread_config("other-thread")) is None


async def test_list_is_newest_first_with_before_limit_and_filter(
    dynamodb: Any, clock: Clock
) -> None:
    """alist orders by checkpoint id descending and honours before, limit and metadata filter."""
    saver = saver_for(dynamodb, clock)
    values = [checkpoint(["m"] * n) for n in range(1, 5)]
    for step, value in enumerate(values):
        await put(saver, "t", value, step=step)
    ids = [value["id"] for value in values]

    every = [t.checkpoint["id"] async for t in saver.alist(thread_config("t"))]
    before = [
        t.checkpoint["id"]
        async for t in saver.alist(thread_config("t"), before=thread_config("t", ids[2]), limit=1)
    ]
    filtered = [
        t.checkpoint["id"] async for t in saver.alist(thread_config("t"), filter={"step": 1})
    ]

    assert ids[::-1] == every
    assert [ids[1]] == before
    assert [ids[1]] == filtered


async def test_pending_writes_round_trip_in_replay_order(dynamodb: Any, clock: Clock) -> None:
    """Writes stored against a checkpoint come back with it, ordered by task path, id and index."""
    saver = saver_for(dynamodb, clock)
    value = checkpoint([])
    config = await put(saver, "t", value)
    await saver.aput_writes(config, [("found", {"id": 2}), ("texts", "b")], "task-b", "~1")
    await saver.aput_writes(config, [("found", {"id": 1})], "task-a", "~0")

    loaded = await saver.aget_tuple(config)

    assert loaded is not None
    assert [
        ("task-a", "found", {"id": 1}),
        ("task-b", "found", {"id": 2}),
        ("task-b", "texts", "b"),
    ] == loaded.pending_writes


async def test_another_owner_cannot_see_or_delete_a_thread(dynamodb: Any, clock: Clock) -> None:
    """The same thread id under another owner is an empty partition, for reads and deletes."""
    alice = saver_for(dynamodb, clock, owner="alice-" + uuid.uuid4().hex)
    bob = saver_for(dynamodb, clock, owner="bob-" + uuid.uuid4().hex)
    await put(alice, "shared-id", checkpoint(["alice's secret"]))

    await bob.adelete_thread("shared-id")

    assert await bob.aget_tuple(thread_config("shared-id")) is None
    assert [] == [t async for t in bob.alist(thread_config("shared-id"))]
    assert await alice.aget_tuple(thread_config("shared-id")) is not None


async def test_delete_thread_removes_checkpoints_and_writes(dynamodb: Any, clock: Clock) -> None:
    """adelete_thread leaves nothing of the thread behind."""
    saver = saver_for(dynamodb, clock)
    config = await put(saver, "t", checkpoint(["x"]))
    await saver.aput_writes(config, [("texts", "y")], "task")

    await saver.adelete_thread("t")

    assert await saver.aget_tuple(thread_config("t")) is None
    assert await saver.aget_tuple(config) is None


async def test_expired_checkpoints_are_invisible_before_dynamodb_deletes_them(
    dynamodb: Any, clock: Clock
) -> None:
    """Past its TTL a checkpoint is not returned, though the item still exists."""
    saver = saver_for(dynamodb, clock)
    config = await put(saver, "t", checkpoint(["old"]))

    clock.now += 3601

    assert await saver.aget_tuple(thread_config("t")) is None
    assert await saver.aget_tuple(config) is None
    assert [] == [t async for t in saver.alist(thread_config("t"))]


async def test_a_checkpoint_too_large_for_one_item_is_refused(dynamodb: Any, clock: Clock) -> None:
    """A checkpoint over DynamoDB's item limit raises a clear error instead of a service error."""
    saver = saver_for(dynamodb, clock)

    with pytest.raises(CheckpointTooLargeError):
        await put(saver, "t", checkpoint(["x" * 400_000]))


async def test_owner_and_thread_ids_cannot_forge_keys(dynamodb: Any, clock: Clock) -> None:
    """An owner or thread id with a key separator is refused before any read."""
    forged_owner = saver_for(dynamodb, clock, owner="alice#THREAD#x")

    with pytest.raises(ValueError, match="owner"):
        await forged_owner.aget_tuple(thread_config("t"))
    with pytest.raises(ValueError, match="thread ids"):
        await saver_for(dynamodb, clock).aget_tuple(thread_config("a#b"))
