"""Claude through the Anthropic API."""

from __future__ import annotations

import anthropic

from collections_analyzer.providers.messages import MessagesProvider


class AnthropicProvider(MessagesProvider):
    """Claude via ``api.anthropic.com`` (or ``base_url``, e.g. a local fake in tests)."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout_seconds: float = 60,
        max_output_tokens: int = 4096,
    ) -> None:
        # max_retries=0: the chain's retry loop owns retries (and Retry-After); none stack.
        client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout_seconds, max_retries=0
        )
        super().__init__(
            name="anthropic", client=client, model=model, max_output_tokens=max_output_tokens
        )
