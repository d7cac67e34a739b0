"""Claude for the services that talk to it interactively (search, chat): one way to build it.

The Anthropic API when a key is set, else Amazon Bedrock when a Bedrock model is configured, else
nothing, and the service takes its offline path. Both clients speak the same Messages API, so
the caller only ever sees :class:`Claude`. Timeouts and retries come from the service's settings
and are the SDK's own (it honours ``Retry-After``); nothing retries on top of them.

``anthropic`` is imported when a client is built, not with this module: only the services that
call Claude declare the SDK, and every other service still imports the whole runtime kit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec

if TYPE_CHECKING:
    import anthropic

Provider = Literal["anthropic", "bedrock"]


class ClaudeConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Where Claude is reached and how patiently; a service builds it from its settings."""

    api_key: str = ""
    base_url: str = ""
    """Another Messages API endpoint (a proxy; the local fake in tests)."""
    model: str = "claude-haiku-4-5"
    bedrock_model: str = ""
    """A Bedrock model or inference-profile id; used only when no API key is set."""
    bedrock_region: str = ""
    """Empty: ``AWS_REGION`` / the AWS profile's region."""
    bedrock_base_url: str = ""
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=600)] = 30.0
    max_retries: Annotated[int, msgspec.Meta(ge=0, le=10)] = 2

    @property
    def provider(self) -> Provider | None:
        """Which way Claude is reached, or ``None`` when it is not configured."""
        if self.api_key:
            return "anthropic"
        if self.bedrock_model:
            return "bedrock"
        return None


@dataclass(frozen=True)
class Claude:
    """A Messages API client and the model to ask."""

    client: anthropic.AsyncAnthropic | anthropic.AsyncAnthropicBedrock
    model: str
    provider: Provider

    async def aclose(self) -> None:
        await self.client.close()


def build_claude(config: ClaudeConfig) -> Claude | None:
    """The configured client, or ``None`` without a key or a Bedrock model."""
    import anthropic  # noqa: PLC0415 - see the module docstring

    match config.provider:
        case "anthropic":
            client: anthropic.AsyncAnthropic | anthropic.AsyncAnthropicBedrock = (
                anthropic.AsyncAnthropic(
                    api_key=config.api_key,
                    base_url=config.base_url or None,
                    timeout=config.timeout_seconds,
                    max_retries=config.max_retries,
                )
            )
            return Claude(client=client, model=config.model, provider="anthropic")
        case "bedrock":
            # AWS credentials come from the usual chain (environment, profile, task role).
            client = anthropic.AsyncAnthropicBedrock(
                aws_region=config.bedrock_region or None,
                base_url=config.bedrock_base_url or None,
                timeout=config.timeout_seconds,
                max_retries=config.max_retries,
            )
            return Claude(client=client, model=config.bedrock_model, provider="bedrock")
        case None:
            return None
