"""The chat API's bodies: defined once in :mod:`collections_shared.domain.chat`."""

from __future__ import annotations

from collections_shared.domain.chat import (
    MAX_MESSAGE_CHARS,
    ChatRequest,
    ChatResponse,
    Citation,
    Deleted,
    Message,
    SessionDetail,
    SessionId,
    SessionList,
    SessionSummary,
)

__all__ = [
    "MAX_MESSAGE_CHARS",
    "ChatRequest",
    "ChatResponse",
    "Citation",
    "Deleted",
    "Message",
    "SessionDetail",
    "SessionId",
    "SessionList",
    "SessionSummary",
]
