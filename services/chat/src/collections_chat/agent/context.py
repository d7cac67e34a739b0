"""What one run of the agent may use; LangGraph passes it to nodes and never checkpoints it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from collections_chat.agent.clients import SearchClient, WebSearch
from collections_chat.agent.state import State, ToolCall
from collections_shared.auth import Principal
from collections_shared.db import Pool

Emit = Callable[[str], None]
"""Sends a text delta to the client (a no-op unless the run is streamed)."""


class ModelUnavailableError(Exception):
    """The model could not be reached (after the SDK's own retries)."""


@dataclass(frozen=True)
class ModelTurn:
    """One response of a model: text (already emitted) and the tools it wants run."""

    text: str
    tool_calls: list[ToolCall]
    step: dict[str, object] | None = None
    """The assistant message to replay on the next call (needed when tools were called)."""


class ChatModel(Protocol):
    """Claude, or the offline responder; both answer the same state the same way."""

    calls_llm: bool
    """Whether a turn costs an LLM call (and so a unit of the caller's LLM quota)."""

    async def respond(self, state: State, context: Context, emit: Emit) -> ModelTurn: ...


@dataclass(frozen=True)
class Context:
    principal: Principal
    """From the verified JWT. Tools take the tenant from here and only here, never from the
    model's arguments, so no text the model reads can redirect them to another user."""
    model: ChatModel
    search: SearchClient
    pool: Pool
    web: WebSearch | None = None
    """Tavily, when ``TAVILY_API_KEY`` is set; otherwise the agent has no web tool."""
    max_tool_iterations: int = 3
    max_history_messages: int = 30
    search_limit: int = 5
    scope: dict[str, Any] = field(default_factory=dict)
    """Search filters the caller set for this turn (e.g. an album); they win over the model's."""
