"""A LangGraph checkpointer on DynamoDB (aioboto3), bound to one owner.

``langgraph-checkpoint-aws`` needs a newer botocore than aioboto3 pins, so this is our own,
async-only saver. Items, all in the chat table:

- ``pk = USER#{sub}#THREAD#{thread_id}``, ``sk = CHECKPOINT#{ns}#{checkpoint_id}``: one
  checkpoint (channel values inline) and its metadata, each as the serde's ``(type, bytes)``.
  Checkpoint ids are uuid6, so sort keys order checkpoints oldest to newest.
- same pk, ``sk = WRITES#{ns}#{checkpoint_id}#{task_id}#{idx}``: one pending write.

The saver is built per request for the verified caller (``owner``), so the owner is never an
argument that a model or a client could choose. Every item carries ``expires_at`` (now + TTL
when written); reads skip expired items because DynamoDB deletes them only eventually.

Size: a DynamoDB item holds at most 400 KB. The agent keeps only the last N transcript messages
and clears its per-turn scratch before the final checkpoint, which keeps a checkpoint in the tens
of KB; :class:`CheckpointTooLargeError` is the guard if that ever stops holding.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    get_checkpoint_id,
    get_checkpoint_metadata,
    writes_sort_key,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from collections_chat import dynamo
from collections_chat.dynamo import Item
from collections_chat.keys import thread_pk

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

MAX_ITEM_BYTES = 390_000
"""Below DynamoDB's 400 KB item limit, leaving room for key and attribute names."""


class CheckpointTooLargeError(ValueError):
    """A checkpoint would not fit in one DynamoDB item."""


class DynamoDBSaver(BaseCheckpointSaver[int]):
    """Checkpoints of one owner's threads; async methods only (the service is async)."""

    def __init__(
        self,
        client: DynamoDBClient,
        *,
        table: str,
        owner: str,
        ttl_seconds: int,
        serde: SerializerProtocol | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(serde=serde)
        self._client = client
        self._table = table
        self._owner = owner
        self._ttl = ttl_seconds
        self._clock = clock

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint ``config`` names, or the thread's latest one."""
        thread_id, ns = _thread_and_ns(config)
        pk = thread_pk(self._owner, thread_id)
        checkpoint_id = get_checkpoint_id(config)
        item: Item | None
        if checkpoint_id:
            item = await dynamo.get(
                self._client, self._table, pk, _checkpoint_sk(ns, checkpoint_id)
            )
        else:
            # Newer checkpoints expire later, so if the newest one is expired all of them are.
            newest = dynamo.query(
                self._client, self._table, pk, f"CHECKPOINT#{ns}#", newest_first=True, limit=1
            )
            item = next(iter([found async for found in newest]), None)
        if item is None or not dynamo.live(item, self._clock()):
            return None
        return await self._tuple(thread_id, ns, item)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,  # noqa: A002 - the base class's name
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """A thread's checkpoints, newest first (a thread id is required: no table scans)."""
        if config is None:
            raise ValueError("listing checkpoints needs a thread_id; the table is never scanned")
        thread_id = str(config["configurable"]["thread_id"])
        ns: str | None = config["configurable"].get("checkpoint_ns")
        only = get_checkpoint_id(config)
        before_id = get_checkpoint_id(before) if before else None
        prefix = "CHECKPOINT#" if ns is None else f"CHECKPOINT#{ns}#"
        yielded = 0
        newest_first = dynamo.query(
            self._client, self._table, thread_pk(self._owner, thread_id), prefix, newest_first=True
        )
        async with contextlib.aclosing(newest_first) as items:
            async for item in items:
                if limit is not None and yielded >= limit:
                    return
                if not self._matches(item, only, before_id, filter):
                    continue
                yield await self._tuple(thread_id, item["checkpoint_ns"], item)
                yielded += 1

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint with its channel values inline (one item, one write)."""
        thread_id, ns = _thread_and_ns(config)
        checkpoint_type, checkpoint_bytes = self.serde.dumps_typed(checkpoint)
        metadata_type, metadata_bytes = self.serde.dumps_typed(
            get_checkpoint_metadata(config, metadata)
        )
        if len(checkpoint_bytes) + len(metadata_bytes) > MAX_ITEM_BYTES:
            raise CheckpointTooLargeError(
                f"checkpoint of {len(checkpoint_bytes)} bytes does not fit a DynamoDB item"
            )
        item: Item = {
            "pk": thread_pk(self._owner, thread_id),
            "sk": _checkpoint_sk(ns, checkpoint["id"]),
            "checkpoint_ns": ns,
            "checkpoint_id": checkpoint["id"],
            "type": checkpoint_type,
            "checkpoint": checkpoint_bytes,
            "metadata_type": metadata_type,
            "metadata": metadata_bytes,
            "expires_at": self._expiry(),
        }
        if parent := get_checkpoint_id(config):
            item["parent_checkpoint_id"] = parent
        await self._client.put_item(TableName=self._table, Item=dynamo.to_wire(item))
        return {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": ns,
                "checkpoint_id": checkpoint["id"],
            }
        }

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes. A retried task rewrites identical values, so plain
        overwrites are as good as the in-memory saver's keep-the-first rule."""
        thread_id, ns = _thread_and_ns(config)
        checkpoint_id = str(config["configurable"]["checkpoint_id"])
        pk = thread_pk(self._owner, thread_id)
        items: list[Item] = []
        for position, (channel, value) in enumerate(writes):
            index = WRITES_IDX_MAP.get(channel, position)
            value_type, value_bytes = self.serde.dumps_typed(value)
            items.append(
                {
                    "pk": pk,
                    "sk": f"WRITES#{ns}#{checkpoint_id}#{task_id}#{index}",
                    "task_id": task_id,
                    "task_path": task_path,
                    "idx": index,
                    "channel": channel,
                    "type": value_type,
                    "value": value_bytes,
                    "expires_at": self._expiry(),
                }
            )
        await dynamo.write_batch(self._client, self._table, puts=items)

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of one of the owner's threads."""
        await dynamo.delete_partition(self._client, self._table, thread_pk(self._owner, thread_id))

    def _expiry(self) -> int:
        return int(self._clock()) + self._ttl

    def _matches(
        self,
        item: Item,
        only: str | None,
        before_id: str | None,
        metadata_filter: dict[str, Any] | None,
    ) -> bool:
        checkpoint_id: str = item["checkpoint_id"]
        if not dynamo.live(item, self._clock()):
            return False
        if (only and checkpoint_id != only) or (before_id and checkpoint_id >= before_id):
            return False
        if metadata_filter:
            metadata = self._load(item, "metadata_type", "metadata")
            return all(metadata.get(key) == value for key, value in metadata_filter.items())
        return True

    def _load(self, item: Item, type_attribute: str, value_attribute: str) -> Any:
        return self.serde.loads_typed((item[type_attribute], item[value_attribute]))

    async def _tuple(self, thread_id: str, ns: str, item: Item) -> CheckpointTuple:
        checkpoint_id: str = item["checkpoint_id"]
        parent: str | None = item.get("parent_checkpoint_id")
        return CheckpointTuple(
            config=_config(thread_id, ns, checkpoint_id),
            checkpoint=self._load(item, "type", "checkpoint"),
            metadata=self._load(item, "metadata_type", "metadata"),
            parent_config=_config(thread_id, ns, parent) if parent else None,
            pending_writes=await self._pending_writes(thread_id, ns, checkpoint_id),
        )

    async def _pending_writes(
        self, thread_id: str, ns: str, checkpoint_id: str
    ) -> list[PendingWrite]:
        now = self._clock()
        rows = [
            item
            async for item in dynamo.query(
                self._client,
                self._table,
                thread_pk(self._owner, thread_id),
                f"WRITES#{ns}#{checkpoint_id}#",
            )
            if dynamo.live(item, now)
        ]
        # LangGraph replays a super-step's writes in this order; sort keys alone are not it.
        rows.sort(key=lambda row: writes_sort_key(row["task_path"], row["task_id"], row["idx"]))
        return [(row["task_id"], row["channel"], self._load(row, "type", "value")) for row in rows]


def _thread_and_ns(config: RunnableConfig) -> tuple[str, str]:
    configurable = config["configurable"]
    return str(configurable["thread_id"]), str(configurable.get("checkpoint_ns", ""))


def _checkpoint_sk(ns: str, checkpoint_id: str) -> str:
    return f"CHECKPOINT#{ns}#{checkpoint_id}"


def _config(thread_id: str, ns: str, checkpoint_id: str) -> RunnableConfig:
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": ns,
            "checkpoint_id": checkpoint_id,
        }
    }
