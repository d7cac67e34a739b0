"""Item status changes, fanned out to each user's server-sent-event streams.

PostgreSQL announces every status change (``pg_notify('item_status', ...)`` from a trigger). One
listening connection per gateway process receives them and hands each to the subscribers of that
user only. If the connection drops, it reconnects; streams stay open and simply resume.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable

import asyncpg
import msgspec

from collections_shared.logging import get_logger

log = get_logger(__name__)

_QUEUE_SIZE = 256


class StatusChange(msgspec.Struct, frozen=True):
    user_id: str
    item_id: str
    status: str
    failure_code: str | None = None


_decoder = msgspec.json.Decoder(StatusChange)


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _: event.set()


class StatusFeed:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._subscribers: dict[str, set[asyncio.Queue[StatusChange]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self._connected = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="status-feed")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            self._connection.terminate()
            self._connection = None

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            try:
                connection = self._connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("status_feed_connect_failed", error=str(error))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 15)
                continue
            backoff = 0.5
            lost = asyncio.Event()
            connection.add_termination_listener(_setter(lost))
            await connection.add_listener("item_status", self._on_notify)
            self._connected.set()
            try:
                await lost.wait()
            finally:
                self._connected.clear()
                self._connection = None
                connection.terminate()

    def _on_notify(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        try:
            change = _decoder.decode(str(payload))
        except msgspec.DecodeError:
            return
        for queue in self._subscribers.get(change.user_id, ()):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(change)

    async def subscribe(self, user_id: str) -> AsyncIterator[StatusChange | None]:
        """The user's changes as they happen.

        ``None`` first, once subscribed (nothing published after it is missed), then every 15 s
        without a change, which keeps proxies from timing out.
        """
        queue: asyncio.Queue[StatusChange] = asyncio.Queue(_QUEUE_SIZE)
        self._subscribers[user_id].add(queue)
        try:
            yield None
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield None
        finally:
            self._subscribers[user_id].discard(queue)
            if not self._subscribers[user_id]:
                del self._subscribers[user_id]
