"""The events that flow between the services: one tagged union, one encoder, one decoder.

An event states a fact (``ImageProcessed``, ``AnalysisComplete``, ``EmbeddingComplete``,
``ItemFailed``) or asks for work (``ReprocessRequested``, ``AnalysisRequested``,
``ReindexRequested``); nobody re-publishes a fact to get work done. Each type has one builder
(``build``, beside it) that every producer calls. It derives the event id from what the event is
about, so a re-published fact or a retried request carries the id it had the first time: a fact
from what it reports (item and generation, analysis, embedding), a request from the client's
``Idempotency-Key`` if it sent one, else from what it asks for (the analysis version to create,
the analysis to index). Consumers are idempotent by what is stored; the analyzer also keys each
analysis by the id of the event that asked for it.

Schema rules (msgspec's schema-evolution guide): a new field gets a default; a field's type never
changes; a breaking change is a new struct with a versioned tag (``ImageProcessed.v2``), published
beside the old one while consumers migrate. Unknown fields are skipped, never rejected, so an old
consumer keeps working when a producer adds a field. Every version ever published has a JSON
fixture in ``shared/tests/fixtures/events/`` that must keep decoding. Deploy consumers before
producers: a worker that does not know a tag leaves the message to the redrive policy.

``ImageProcessed.force``: re-analysis used to be asked for with ``ImageProcessed(force=True)`` and
a random id; ``AnalysisRequested`` replaced it. The field stays (default ``False``, set by no
producer) so that messages queued at deploy time decode and the name is never reused. The
analyzer never read it: such a message still makes the one new version it asked for.

On the wire the EventBridge ``DetailType`` equals the struct's tag and ``Detail`` is the struct's
JSON (it carries the tag again in ``type``, so a detail decodes on its own).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self, get_args

import msgspec

from collections_shared.domain.item import ItemRecord

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
    """A stable id (uuid5) for what ``parts`` name: the same parts, the same id."""
    return uuid.uuid5(_EVENT_NAMESPACE, ":".join(str(part) for part in parts))


def _about(
    user_id: str, item_id: uuid.UUID, correlation_id: str, *, id_from: tuple[object, ...]
) -> dict[str, Any]:
    """The fields every event carries, for a builder: the id derived from ``id_from``, now, and
    whose item the event is about."""
    return {
        "event_id": derived_event_id(*id_from),
        "occurred_at": utc_now(),
        "user_id": user_id,
        "item_id": item_id,
        "correlation_id": correlation_id,
    }


def _request_part(idempotency_key: str | None, otherwise: str) -> str:
    """The part of a request's id that tells requests apart: the client's key, if it sent one."""
    return f"key:{idempotency_key}" if idempotency_key else otherwise


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
    """Deprecated, never set: re-analysis is :class:`AnalysisRequested` (see the module doc)."""

    @classmethod
    def build(cls, item: ItemRecord, *, bucket: str) -> Self:
        """The event for a processed item: one id per item and generation."""
        return cls(
            **_about(
                item.user_id,
                item.id,
                item.correlation_id,
                id_from=(item.id, "ImageProcessed", item.generation),
            ),
            bucket=bucket,
            original_key=item.original_key,
            derivative_keys=item.derivative_keys,
            width=item.width or 1,
            height=item.height or 1,
            mime_type=item.mime_type or "application/octet-stream",
            sha256=item.sha256 or "0" * 64,
        )


class AnalysisRequested(Event, frozen=True, kw_only=True, tag="AnalysisRequested"):
    """The owner asked for a new analysis version of a processed item (``POST .../analyze``).

    The analyzer reads the item's derivatives from the database and keys the new version by this
    event's id, so one request makes one version however often it is delivered or retried.
    """

    replace_user_fields: bool = False
    """Replace the fields the owner edited too; by default the new version keeps them."""

    @classmethod
    def build(
        cls,
        *,
        user_id: str,
        item_id: uuid.UUID,
        correlation_id: str,
        idempotency_key: str | None,
        next_version: int,
        replace_user_fields: bool = False,
    ) -> Self:
        """Id from (user, item, key), or without a key from (item, the version it would create)."""
        otherwise = f"version:{next_version}" + (":replace" if replace_user_fields else "")
        request = _request_part(idempotency_key, otherwise)
        return cls(
            **_about(
                user_id,
                item_id,
                correlation_id,
                id_from=(user_id, item_id, "AnalysisRequested", request),
            ),
            replace_user_fields=replace_user_fields,
        )


class AnalysisComplete(Event, frozen=True, kw_only=True, tag="AnalysisComplete"):
    """The analyzer stored an analysis version."""

    analysis_id: uuid.UUID
    version: Annotated[int, msgspec.Meta(ge=1)]

    @classmethod
    def build(
        cls,
        *,
        user_id: str,
        item_id: uuid.UUID,
        correlation_id: str,
        analysis_id: uuid.UUID,
        version: int,
    ) -> Self:
        """One id per analysis version."""
        return cls(
            **_about(user_id, item_id, correlation_id, id_from=(analysis_id, "AnalysisComplete")),
            analysis_id=analysis_id,
            version=version,
        )


class ReindexRequested(Event, frozen=True, kw_only=True, tag="ReindexRequested"):
    """Embed this analysis again with the embedder's current model (``POST /index/rebuild``).

    The embedder treats it like :class:`AnalysisComplete`: one vector per item and model, and
    nothing is recomputed when the stored vector already is of this analysis, model and document.
    """

    analysis_id: uuid.UUID

    @classmethod
    def build(
        cls, *, user_id: str, item_id: uuid.UUID, correlation_id: str, analysis_id: uuid.UUID
    ) -> Self:
        """One id per item and analysis: the request names no model (the gateway does not know
        it), so asking again is the same request; the embedder decides from what is stored."""
        return cls(
            **_about(
                user_id,
                item_id,
                correlation_id,
                id_from=(user_id, item_id, "ReindexRequested", analysis_id),
            ),
            analysis_id=analysis_id,
        )


class EmbeddingComplete(Event, frozen=True, kw_only=True, tag="EmbeddingComplete"):
    """The embedder stored an embedding; the item is searchable."""

    embedding_id: uuid.UUID
    model: Text

    @classmethod
    def build(
        cls,
        *,
        user_id: str,
        item_id: uuid.UUID,
        correlation_id: str,
        embedding_id: uuid.UUID,
        analysis_id: uuid.UUID,
        model: str,
    ) -> Self:
        """One id per embedding row and the analysis it now holds."""
        return cls(
            **_about(
                user_id,
                item_id,
                correlation_id,
                id_from=(embedding_id, analysis_id, "EmbeddingComplete"),
            ),
            embedding_id=embedding_id,
            model=model,
        )


class FailureReason(msgspec.Struct, frozen=True, kw_only=True):
    """Why an item failed: a machine-readable code and a message for people."""

    code: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[a-z0-9_]+$")]
    message: Text


class ItemFailed(Event, frozen=True, kw_only=True, tag="ItemFailed"):
    """An item reached the terminal ``failed`` status."""

    stage: Stage
    reason: FailureReason

    @classmethod
    def build(
        cls,
        *,
        user_id: str,
        item_id: uuid.UUID,
        correlation_id: str,
        stage: Stage,
        reason: FailureReason,
        generation: int,
    ) -> Self:
        """One id per item, generation, stage and failure code."""
        return cls(
            **_about(
                user_id,
                item_id,
                correlation_id,
                id_from=(item_id, "ItemFailed", stage, reason.code, generation),
            ),
            stage=stage,
            reason=reason,
        )


class ReprocessRequested(Event, frozen=True, kw_only=True, tag="ReprocessRequested"):
    """Run ingest again on an item's original (user request or reconciler re-drive)."""

    original_key: Key

    @classmethod
    def build(cls, item: ItemRecord) -> Self:
        """One id per item, generation and re-drive (0: the owner's ``POST .../reprocess``)."""
        return cls(
            **_about(
                item.user_id,
                item.id,
                item.correlation_id,
                id_from=(item.id, "ReprocessRequested", item.generation, item.redrive_count),
            ),
            original_key=item.original_key,
        )


AnyEvent = (
    ImageProcessed
    | AnalysisRequested
    | AnalysisComplete
    | ReindexRequested
    | EmbeddingComplete
    | ItemFailed
    | ReprocessRequested
)

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
