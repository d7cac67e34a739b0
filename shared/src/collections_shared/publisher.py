"""Publish events to the EventBridge bus; rules route each DetailType to its consumer's queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec
from botocore.exceptions import BotoCoreError, ClientError

from collections_shared import tracing
from collections_shared.errors import TransientError
from collections_shared.events import Event, detail_type, encode_event
from collections_shared.logging import get_logger

if TYPE_CHECKING:
    from types_aiobotocore_events import EventBridgeClient
    from types_aiobotocore_events.type_defs import PutEventsRequestEntryTypeDef

log = get_logger(__name__)

_MAX_ENTRIES_PER_CALL = 10  # the PutEvents limit


class EventPublisher:
    """Sends events with ``PutEvents``; a rejected entry raises, so the caller retries."""

    def __init__(self, client: EventBridgeClient, *, bus_name: str, source: str) -> None:
        self._client = client
        self._bus_name = bus_name
        self._source = source

    async def publish(self, *events: Event) -> None:
        """Publish ``events``, raising :class:`TransientError` if any entry was not accepted."""
        for start in range(0, len(events), _MAX_ENTRIES_PER_CALL):
            await self._put(events[start : start + _MAX_ENTRIES_PER_CALL])

    async def _put(self, events: Sequence[Event]) -> None:
        if tracing.enabled():
            names = sorted({detail_type(event) for event in events})
            attributes = {"messaging.system": "aws_eventbridge", "messaging.operation": "publish"}
            with tracing.producer_span(f"publish {' '.join(names)}", attributes) as traceparent:
                await self._send(
                    [
                        event
                        if event.traceparent
                        else msgspec.structs.replace(event, traceparent=traceparent)
                        for event in events
                    ]
                )
            return
        await self._send(events)

    async def _send(self, events: Sequence[Event]) -> None:
        entries: list[PutEventsRequestEntryTypeDef] = [
            {
                "Source": self._source,
                "DetailType": detail_type(event),
                "Detail": encode_event(event).decode(),
                "EventBusName": self._bus_name,
            }
            for event in events
        ]
        try:
            response = await self._client.put_events(Entries=entries)
        except (BotoCoreError, ClientError) as error:
            raise TransientError(
                "publish_failed", f"EventBridge PutEvents failed: {error}"
            ) from error
        if response.get("FailedEntryCount", 0):
            failures = [entry for entry in response["Entries"] if entry.get("ErrorCode")]
            raise TransientError("publish_failed", f"EventBridge rejected entries: {failures}")
        for event in events:
            log.debug(
                "event_published", detail_type=detail_type(event), event_id=str(event.event_id)
            )
