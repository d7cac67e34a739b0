"""Settings of the chat service: environment variables, ``CHAT_``-prefixed ones win.

So ``CHAT_ANTHROPIC_API_KEY`` beats ``ANTHROPIC_API_KEY``, and ``CHAT_SEARCH_URL`` beats the
``SEARCH_URL`` the local stack gives every service.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from collections_shared.settings import CommonSettings, Port, PositiveInt

ENV_PREFIX = "CHAT_"


class Settings(CommonSettings, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Port = 8005
    search_url: str = "http://127.0.0.1:8004"
    """The internal search service; the agent's search tool calls it with the caller's token."""
    search_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 20.0
    table: str = "collections-chat"
    """DynamoDB table of checkpoints and the session index (pk/sk strings, TTL ``expires_at``)."""
    session_ttl_seconds: Annotated[int, msgspec.Meta(ge=60)] = 4 * 3600
    """A session expires after this much inactivity; every turn pushes the expiry back."""
    max_tool_iterations: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3
    """Model ↔ tools round trips per turn before the agent must answer with what it has."""
    max_history_messages: Annotated[int, msgspec.Meta(ge=2, le=200)] = 30
    """Messages kept in the checkpointed transcript (keeps each item under DynamoDB's 400 KB)."""
    max_message_chars: Annotated[int, msgspec.Meta(ge=1, le=4000)] = 4000
    """Longer messages are refused; the API's hard ceiling is 4000 characters."""
    anthropic_api_key: str = ""
    """Enables Claude; without it a deterministic local responder answers (offline, no key)."""
    anthropic_base_url: str = ""
    """Another Messages API endpoint (tests point it at a local fake)."""
    anthropic_model: str = "claude-haiku-4-5"
    anthropic_max_tokens: Annotated[int, msgspec.Meta(ge=64, le=8192)] = 1024
    anthropic_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=600)] = 60.0
    anthropic_max_retries: Annotated[int, msgspec.Meta(ge=0, le=10)] = 2
    """The SDK's own retries (429/5xx with backoff); nothing else retries on top of them."""
    search_result_limit: PositiveInt = 5
    """Default number of results the search tool asks for."""
