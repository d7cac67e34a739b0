"""The events that flow between the services: one tagged union, one encoder, one decoder.

Schema rules (msgspec's schema-evolution guide): a new field gets a default; a field's type never
changes; a breaking change is a new struct with a versioned tag (``ImageProcessed.v2``), published
beside the old one while consumers migrate. Unknown fields are skipped, never rejected, so an old
consumer keeps working when a producer adds a field.

On the wire the EventBridge ``DetailType`` equals the struct's tag and ``Detail`` is the struct's
JSON (it carries the tag again in ``type``, so a detail decodes on its own).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal, get_args

import msgspec

SCHEMA_VERSION = 1

# Deterministic event ids let a consumer recognise a re-published event as the same one.
_EVENT_NAMESPACE = uuid.UUID("6f1c1f52-1d0c-4b7a-9f63-2a8f0d3e7c11")

Stage = Literal["upload", "ingest", "analyze", "embed", "reconcile"]

Text = Annotated[str, msgspec.Meta(max_length=2048)]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
UserId = Annotated[
    str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-:@.]*$")
]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def derived_event_id(*parts: object) -> uuid.UUID:
    """A stable event id for the event that a given piece of work produces."""
    return uuid.uuid5(_EVENT_NAMESPACE, ":".join(str(part) for part in parts))


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Fields every event carries."""

    event_id: uuid.UUID
    occurred_at: datetime
    user_id: UserId
    item_id: uuid.UUID
    correlation_id: Text = ""
    """The request id of the upload that started this chain, for following one item in logs."""
    schema_version: int = SCHEMA_VERSION
    traceparent: Annotated[str, msgspec.Meta(max_length=128)] = ""
    """W3C trace context of the span that published this event, so the consumer's work joins the
    upload's trace ("" when tracing is off; set by the publisher, never by the event's author)."""


class ImageProcessed(Event, frozen=True, kw_only=True, tag="ImageProcessed"):
    """Ingest validated an upload and wrote its derivatives."""

    bucket: Key
    original_key: Key
    derivative_keys: dict[str, Key]
    width: Annotated[int, msgspec.Meta(ge=1)]
    height: Annotated[int, msgspec.Meta(ge=1)]
    mime_type: Text
    sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
    force: bool = False
    """Asked for by a user (re-analyze): make a new analysis version even if one exists."""


class AnalysisComplete(Event, frozen=True, kw_only=True, tag="AnalysisComplete"):
    """The analyzer stored an analysis version."""

    analysis_id: uuid.UUID
    version: Annotated[int, msgspec.Meta(ge=1)]


class EmbeddingComplete(Event, frozen=True, kw_only=True, tag="EmbeddingComplete"):
    """The embedder stored an embedding; the item is searchable."""

    embedding_id: uuid.UUID
    model: Text


class FailureReason(msgspec.Struct, frozen=True, kw_only=True):
    """Why an item failed: a machine-readable code and a message for people."""

    code: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[a-z0-9_]+$")]
    message: Text


class ItemFailed(Event, frozen=True, kw_only=True, tag="ItemFailed"):
    """An item reached the terminal ``failed`` status."""

    stage: Stage
    reason: FailureReason


class ReprocessRequested(Event, frozen=True, kw_only=True, tag="ReprocessRequested"):
    """Run ingest again on an item's original (user request or reconciler re-drive)."""

    original_key: Key


AnyEvent = ImageProcessed | AnalysisComplete | EmbeddingComplete | ItemFailed | ReprocessRequested

EVENT_TYPES: tuple[type[Event], ...] = get_args(AnyEvent)


def event_tag(event_type: type[Event]) -> str:
    """The tag of an event type: its EventBridge DetailType."""
    tag = event_type.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def detail_type(event: Event) -> str:
    """The EventBridge DetailType of an event: its tag."""
    return event_tag(type(event))


class EventBridgeEnvelope(
    msgspec.Struct, frozen=True, kw_only=True, rename={"detail_type": "detail-type"}
):
    """The part of an EventBridge-to-SQS message a consumer reads."""

    detail_type: str
    source: str
    detail: AnyEvent
    id: str = ""


_encoder = msgspec.json.Encoder()
_event_decoder = msgspec.json.Decoder(AnyEvent)
_envelope_decoder = msgspec.json.Decoder(EventBridgeEnvelope)


def encode_event(event: Event) -> bytes:
    """Serialize an event's detail to JSON."""
    return _encoder.encode(event)


def decode_event(data: bytes | str) -> AnyEvent:
    """Parse an event detail; raises ``msgspec.DecodeError`` / ``ValidationError`` if invalid."""
    event: AnyEvent = _event_decoder.decode(data)
    return event


def decode_envelope(data: bytes | str) -> EventBridgeEnvelope:
    """Parse the body of an SQS message that an EventBridge rule delivered."""
    return _envelope_decoder.decode(data)
