"""The chat API's bodies: defined once in :mod:`collections_shared.domain.chat`."""

from __future__ import annotations

from collections_shared.domain.chat import (
    MAX_MESSAGE_CHARS,
    AnyCitation,
    ChatRequest,
    ChatResponse,
    Citation,
    Deleted,
    Message,
    SessionDetail,
    SessionId,
    SessionList,
    SessionSummary,
    WebCitation,
)

__all__ = [
    "MAX_MESSAGE_CHARS",
    "AnyCitation",
    "ChatRequest",
    "ChatResponse",
    "Citation",
    "Deleted",
    "Message",
    "SessionDetail",
    "SessionId",
    "SessionList",
    "SessionSummary",
    "WebCitation",
]
