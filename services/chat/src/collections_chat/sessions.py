"""The session index: one item per conversation under the owner's partition.

``pk = USER#{sub}``, ``sk = SESSION#{id}``, with title, timestamps, message count and
``expires_at``. Listing a user's sessions is one Query of their own partition. A session is alive
while ``expires_at`` is in the future; every turn pushes it ``ttl_seconds`` ahead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
from botocore.exceptions import ClientError

from collections_chat import dynamo
from collections_chat.dynamo import Item
from collections_chat.keys import is_session_id, session_sk, user_pk

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient


class SessionRecord(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    title: str
    created_at: datetime
    updated_at: datetime
    message_count: int
    expires_at: int


class SessionStore:
    """Reads and writes the session index; expired entries are invisible to every read."""

    def __init__(
        self,
        client: DynamoDBClient,
        *,
        table: str,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table
        self._ttl = ttl_seconds
        self._clock = clock

    async def get(self, user_id: str, session_id: str) -> SessionRecord | None:
        """The caller's live session, or None (unknown, expired or someone else's alike)."""
        if not is_session_id(session_id):
            return None
        item = await dynamo.get(self._client, self._table, user_pk(user_id), session_sk(session_id))
        if item is None or not dynamo.live(item, self._clock()):
            return None
        return _record(item)

    async def create(self, user_id: str, session_id: str, title: str) -> SessionRecord:
        """Start an empty session (the id is fresh, so the write must not replace anything)."""
        now = self._clock()
        record = SessionRecord(
            session_id=session_id,
            title=title,
            created_at=_datetime(now),
            updated_at=_datetime(now),
            message_count=0,
            expires_at=int(now) + self._ttl,
        )
        await self._client.put_item(
            TableName=self._table,
            Item=dynamo.to_wire(
                {
                    "pk": user_pk(user_id),
                    "sk": session_sk(session_id),
                    "title": record.title,
                    "created_at": record.created_at.isoformat(),
                    "updated_at": record.updated_at.isoformat(),
                    "message_count": 0,
                    "expires_at": record.expires_at,
                }
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )
        return record

    async def touch(self, user_id: str, session_id: str, *, added_messages: int) -> None:
        """Record a finished turn and push the expiry back; a deleted session stays deleted."""
        now = self._clock()
        try:
            await self._client.update_item(
                TableName=self._table,
                Key=dynamo.key(user_pk(user_id), session_sk(session_id)),
                UpdateExpression=(
                    "SET updated_at = :now, expires_at = :expires, "
                    "message_count = message_count + :added"
                ),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=dynamo.to_wire(
                    {
                        ":now": _datetime(now).isoformat(),
                        ":expires": int(now) + self._ttl,
                        ":added": added_messages,
                    }
                ),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    async def live(self, user_id: str) -> list[SessionRecord]:
        """The caller's live sessions, most recently active first."""
        now = self._clock()
        records = [_record(item) for item in await self._all(user_id) if dynamo.live(item, now)]
        records.sort(key=lambda record: (record.updated_at, record.created_at), reverse=True)
        return records

    async def entries(self, user_id: str) -> list[tuple[str, bool]]:
        """Every session id of the user, expired ones too, each with whether it is live."""
        now = self._clock()
        return [
            (_record(item).session_id, dynamo.live(item, now)) for item in await self._all(user_id)
        ]

    async def delete(self, user_id: str, session_ids: list[str]) -> None:
        """Remove index entries (deleting one that is already gone is not an error)."""
        pk = user_pk(user_id)
        await dynamo.write_batch(
            self._client,
            self._table,
            deletes=[(pk, session_sk(session_id)) for session_id in session_ids],
        )

    async def _all(self, user_id: str) -> list[Item]:
        return [
            item
            async for item in dynamo.query(self._client, self._table, user_pk(user_id), "SESSION#")
        ]


def _datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _record(item: Item) -> SessionRecord:
    return SessionRecord(
        session_id=item["sk"].removeprefix("SESSION#"),
        title=item["title"],
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
        message_count=item["message_count"],
        expires_at=item["expires_at"],
    )
