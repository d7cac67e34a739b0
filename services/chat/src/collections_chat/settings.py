"""Settings of the chat service: environment variables, ``CHAT_``-prefixed ones win.

So ``CHAT_ANTHROPIC_API_KEY`` beats ``ANTHROPIC_API_KEY``, and ``CHAT_SEARCH_URL`` beats the
``SEARCH_URL`` the local stack gives every service.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec
from msgspec.structs import force_setattr

from collections_shared.llm import ClaudeConfig
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
    """Enables Claude; without it (or Bedrock) a deterministic local responder answers."""
    anthropic_base_url: str = ""
    """Another Messages API endpoint (tests point it at a local fake)."""
    anthropic_model: str = "claude-haiku-4-5"
    anthropic_max_tokens: Annotated[int, msgspec.Meta(ge=64, le=8192)] = 1024
    anthropic_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=600)] = 60.0
    anthropic_max_retries: Annotated[int, msgspec.Meta(ge=0, le=10)] = 2
    """The SDK's own retries (429/5xx with backoff); nothing else retries on top of them."""
    bedrock_model: str = ""
    """Claude through Amazon Bedrock when no API key is set (a model or inference-profile id;
    the role needs ``bedrock:InvokeModelWithResponseStream``: replies are streamed)."""
    bedrock_region: str = ""
    bedrock_base_url: str = ""
    search_result_limit: PositiveInt = 5
    """Default number of results the search tool asks for."""
    tavily_api_key: str = ""
    """Enables the ``web_search`` tool (Tavily); without it the agent has no web access."""
    tavily_base_url: str = ""
    """Another Tavily-compatible endpoint (tests point it at a local fake)."""
    web_search_include_domains: list[str] | str = ""
    """Only pages from these domains (and their subdomains), comma-separated; empty: any."""
    web_search_exclude_domains: list[str] | str = ""
    """Never pages from these domains (and their subdomains), comma-separated."""
    web_search_max_results: Annotated[int, msgspec.Meta(ge=1, le=10)] = 5
    web_search_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 15.0

    def __post_init__(self) -> None:
        for name in ("web_search_include_domains", "web_search_exclude_domains"):
            try:
                force_setattr(self, name, _domains(getattr(self, name)))
            except ValueError as error:
                raise ValueError(f"{name.upper()}: {error}") from None

    def claude(self) -> ClaudeConfig:
        """How this service reaches Claude."""
        return ClaudeConfig(
            api_key=self.anthropic_api_key,
            base_url=self.anthropic_base_url,
            model=self.anthropic_model,
            bedrock_model=self.bedrock_model,
            bedrock_region=self.bedrock_region,
            bedrock_base_url=self.bedrock_base_url,
            timeout_seconds=self.anthropic_timeout_seconds,
            max_retries=self.anthropic_max_retries,
        )


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _domains(value: list[str] | str) -> list[str]:
    """A domain list from a comma-separated string or a list; each must be a host name."""
    items = value.split(",") if isinstance(value, str) else value
    domains = [item.strip().lower() for item in items if item.strip()]
    for domain in domains:
        if not _DOMAIN.fullmatch(domain):
            raise ValueError(f"not a domain name: {domain[:80]!r}")
    return domains
