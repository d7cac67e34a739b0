"""``/chat``: request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from collections_shared.domain.search import Filters

MAX_MESSAGE_CHARS = 4000
SESSION_ID_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"
SessionId = Annotated[str, msgspec.Meta(pattern=SESSION_ID_PATTERN, max_length=64)]


class ChatRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    session_id: SessionId | None = None
    """Continue this session; omit to start a new one."""
    filters: Filters | None = None
    """A scope every search of this turn keeps to, e.g. ``{"album_id": ...}``."""


class Citation(msgspec.Struct, frozen=True, tag="item", tag_field="kind"):
    """An item of the caller's collection the reply cites by its id (``kind: item``)."""

    item_id: str
    summary: str
    score: float


class WebCitation(msgspec.Struct, frozen=True, tag="web", tag_field="kind"):
    """A web page the reply cites by its URL (``kind: web``); only pages the web search
    returned in that turn, never fetched by the service."""

    url: str
    title: str


AnyCitation = Citation | WebCitation


class ChatResponse(msgspec.Struct, frozen=True):
    session_id: str
    reply: str
    citations: list[AnyCitation]


class SessionSummary(msgspec.Struct, frozen=True):
    session_id: str
    title: str
    created_at: datetime
    updated_at: datetime
    message_count: int
    """Messages exchanged in the session (the transcript keeps the most recent ones)."""


class SessionList(msgspec.Struct, frozen=True):
    sessions: list[SessionSummary]


class Message(msgspec.Struct, frozen=True, omit_defaults=True):
    role: Literal["user", "assistant"]
    content: str
    created_at: datetime
    citations: list[AnyCitation] | None = None


class SessionDetail(msgspec.Struct, frozen=True):
    session_id: str
    title: str
    messages: list[Message]


class Deleted(msgspec.Struct, frozen=True):
    deleted: int
    """How many of the caller's live sessions were deleted."""
