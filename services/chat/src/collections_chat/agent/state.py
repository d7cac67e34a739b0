"""The agent's state: the transcript that is checkpointed, and the scratch of one turn.

Every field is a plain LangGraph channel holding JSON-like values (dicts, lists, strings), which
the checkpointer's serde stores without any custom type. Nodes return whole new values; nothing
accumulates by reducer, so the transcript's length is decided in one place (``finish``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict, cast


class Citation(TypedDict):
    """An item of the caller's collection that a reply used."""

    kind: NotRequired[Literal["item"]]
    """Absent in transcripts written before web citations existed."""
    item_id: str
    summary: str
    score: float


class WebCitation(TypedDict):
    """A web page that a reply used (one the web search returned that turn)."""

    kind: Literal["web"]
    url: str
    title: str


AnyCitation = Citation | WebCitation


class ChatMessage(TypedDict):
    role: Literal["user", "assistant"]
    content: str
    created_at: str
    """ISO 8601, UTC."""
    citations: NotRequired[list[AnyCitation]]


def item_citations(message: ChatMessage) -> list[Citation]:
    """The items a message cited, in order (web pages left out): what "the second one" means."""
    citations = message.get("citations", [])
    return [cast("Citation", c) for c in citations if c.get("kind", "item") == "item"]


class ToolCall(TypedDict):
    id: str
    name: str
    arguments: dict[str, Any]


class WebPage(TypedDict):
    """A web search result during this turn; only these can become web citations."""

    url: str
    title: str


class Found(TypedDict):
    """An item a tool returned during this turn; only these can become citations."""

    item_id: str
    summary: str
    score: float
    source: Literal["search", "item"]
    details: NotRequired[dict[str, Any]]
    """The ``get_item`` record (filename, description, tags, visible text, ...)."""


@dataclass
class InputState:
    """What a turn starts from: the user's new message."""

    message: str = ""


@dataclass
class State(InputState):
    messages: list[ChatMessage] = field(default_factory=list)
    """The transcript, trimmed to the last N messages (see ``Settings.max_history_messages``)."""
    steps: list[dict[str, Any]] = field(default_factory=list)
    """This turn's model/tool exchange, as Messages API params (assistant tool_use, user
    tool_result), appended to the transcript when the model is called again."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    """Calls the model asked for in its last response, not yet run."""
    found: list[Found] = field(default_factory=list)
    pages: list[WebPage] = field(default_factory=list)
    tool_errors: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    """The assistant's text blocks this turn; the reply is their concatenation."""
    iterations: int = 0
    """Tool rounds run this turn."""
