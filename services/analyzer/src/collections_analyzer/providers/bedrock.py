"""Claude through Amazon Bedrock (same Messages request, SigV4-signed, ``/model/{id}/invoke``)."""

from __future__ import annotations

import anthropic

from collections_analyzer.providers.messages import MessagesProvider


class BedrockProvider(MessagesProvider):
    """Claude via Bedrock; AWS credentials come from the usual chain (env, profile, task role)."""

    def __init__(
        self,
        *,
        model: str,
        region: str | None = None,
        base_url: str | None = None,
        timeout_seconds: float = 60,
        max_output_tokens: int = 4096,
    ) -> None:
        # max_retries=0: the chain's retry loop owns retries (and Retry-After); none stack.
        client = anthropic.AsyncAnthropicBedrock(
            aws_region=region, base_url=base_url, timeout=timeout_seconds, max_retries=0
        )
        super().__init__(
            name="bedrock", client=client, model=model, max_output_tokens=max_output_tokens
        )
