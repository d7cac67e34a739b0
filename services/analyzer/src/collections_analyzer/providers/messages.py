"""Claude over the Messages API, through the Anthropic API or through Bedrock.

One provider class: the two routes differ only in the SDK client (``AsyncAnthropic`` with a key,
``AsyncAnthropicBedrock`` signing with AWS credentials), which :meth:`ClaudeProvider.anthropic`
and :meth:`ClaudeProvider.bedrock` build. The model is forced to call one tool whose input is
the analysis; that input is untrusted data, so it goes through :func:`normalize_analysis` (known
fields only, types checked, lengths capped) and what is kept for audit is capped as well.
"""

from __future__ import annotations

import base64
import time
from typing import Any, Literal

import anthropic
from anthropic.types import (
    Message,
    MessageParam,
    ThinkingConfigDisabledParam,
    ToolChoiceToolParam,
    ToolParam,
)

from collections_analyzer.providers.base import (
    AnalysisResult,
    ImageInput,
    ProviderError,
    ProviderOutputError,
    ProviderUnavailableError,
)
from collections_analyzer.providers.prompt import (
    PROMPT_VERSION,
    SYSTEM_PROMPT,
    TOOL_NAME,
    analysis_tool,
    user_text,
)
from collections_shared.domain.analysis_input import InvalidAnalysisError, normalize_analysis
from collections_shared.retry import retry_after_seconds

MAX_LONG_EDGE = 1568
"""The model only ever gets the preview derivative; anything larger is a caller bug."""
MAX_MODEL_NAME = 100
MAX_IMAGE_BYTES = 5 * 1024 * 1024
"""The Messages API's per-image limit."""
# Caps of the raw tool input kept for audit: a model told to write a novel must not fill a row.
RAW_MAX_STRING = 4000
RAW_MAX_ITEMS = 50
RAW_MAX_DEPTH = 4

# Statuses worth another try: the SDK's own retry set (timeouts, lock conflicts, throttling, 5xx).
_TRANSIENT_STATUSES = frozenset({408, 409, 429})

MediaType = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
MEDIA_TYPES: dict[str, MediaType] = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/gif": "image/gif",
    "image/webp": "image/webp",
}


DEFAULT_MAX_OUTPUT_TOKENS = 8192


class ClaudeProvider:
    """A vision provider backed by an ``AsyncAnthropic``-compatible client."""

    def __init__(
        self,
        *,
        name: str,
        client: anthropic.AsyncAnthropic | anthropic.AsyncAnthropicBedrock,
        model: str,
        max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
    ) -> None:
        self.name = name
        self.model = model
        self._client = client
        self._max_output_tokens = max_output_tokens

    # The SDKs' own retries are off (max_retries=0): the chain's retry loop owns retries and
    # Retry-After, so none stack.

    @classmethod
    def anthropic(
        cls,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout_seconds: float = 60,
        max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
    ) -> ClaudeProvider:
        """Claude via ``api.anthropic.com`` (or ``base_url``, e.g. a local fake in tests)."""
        client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout_seconds, max_retries=0
        )
        return cls(
            name="anthropic", client=client, model=model, max_output_tokens=max_output_tokens
        )

    @classmethod
    def bedrock(
        cls,
        *,
        model: str,
        region: str | None = None,
        base_url: str | None = None,
        timeout_seconds: float = 60,
        max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
    ) -> ClaudeProvider:
        """Claude via Bedrock (``/model/{id}/invoke``, SigV4); AWS credentials come from the
        usual chain (environment, profile, task role).

        Raises:
            ValueError: no region was given and none is configured anywhere.
        """
        client = anthropic.AsyncAnthropicBedrock(
            aws_region=region, base_url=base_url, timeout=timeout_seconds, max_retries=0
        )
        return cls(name="bedrock", client=client, model=model, max_output_tokens=max_output_tokens)

    async def analyze(self, image: ImageInput) -> AnalysisResult:
        """Ask Claude for the analysis of ``image``; raise :class:`ProviderError` otherwise."""
        media_type = _check_image(image)
        started = time.perf_counter()
        try:
            message = await self._client.messages.create(
                model=self.model,
                max_tokens=self._max_output_tokens,
                system=SYSTEM_PROMPT,
                messages=[_user_message(image, media_type)],
                tools=[_tool()],
                tool_choice=ToolChoiceToolParam(type="tool", name=TOOL_NAME),
                # A forced tool call is incompatible with (adaptive) thinking, on by default on
                # newer models; the analysis needs no reasoning trace either.
                thinking=ThinkingConfigDisabledParam(type="disabled"),
            )
        except anthropic.APIError as error:
            raise map_api_error(error) from error
        latency_ms = round((time.perf_counter() - started) * 1000)
        return parse_message(message, provider=self.name, latency_ms=latency_ms)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()


def _check_image(image: ImageInput) -> MediaType:
    if max(image.width, image.height) > MAX_LONG_EDGE or len(image.data) > MAX_IMAGE_BYTES:
        msg = f"the model gets the preview (<= {MAX_LONG_EDGE} px, <= 5 MB), not this image"
        raise ProviderOutputError("image_too_large", msg)
    if (media_type := MEDIA_TYPES.get(image.media_type)) is not None:
        return media_type
    raise ProviderOutputError("unsupported_media_type", f"cannot send {image.media_type!r}")


def _tool() -> ToolParam:
    tool = analysis_tool()
    return ToolParam(
        name=tool["name"], description=tool["description"], input_schema=tool["input_schema"]
    )


def _user_message(image: ImageInput, media_type: MediaType) -> MessageParam:
    encoded = base64.standard_b64encode(image.data).decode("ascii")
    return {
        "role": "user",
        "content": [
            {
                "type": "image",
                "source": {"type": "base64", "media_type": media_type, "data": encoded},
            },
            {"type": "text", "text": user_text(image)},
        ],
    }


def parse_message(message: Message, *, provider: str, latency_ms: int) -> AnalysisResult:
    """The analysis in the forced tool call of ``message``.

    Raises:
        ProviderOutputError: no such call (refusal, plain text) or an input that is no analysis.
    """
    tool_input = next(
        (
            block.input
            for block in message.content
            if block.type == "tool_use" and block.name == TOOL_NAME
        ),
        None,
    )
    if tool_input is None:
        code = "refused" if message.stop_reason == "refusal" else "malformed_output"
        raise ProviderOutputError(code, f"no {TOOL_NAME} call (stop: {message.stop_reason})")
    try:
        analysis = normalize_analysis(tool_input)
    except InvalidAnalysisError as error:
        raise ProviderOutputError("malformed_output", str(error)) from error
    raw = cap_raw(tool_input)
    return AnalysisResult(
        analysis=analysis,
        provider=provider,
        model=message.model[:MAX_MODEL_NAME],
        prompt_version=PROMPT_VERSION,
        input_tokens=message.usage.input_tokens,
        output_tokens=message.usage.output_tokens,
        latency_ms=latency_ms,
        raw=raw if isinstance(raw, dict) else {},
    )


def cap_raw(value: Any, depth: int = 0) -> Any:
    """A copy of untrusted JSON with strings, lists and nesting cut to audit-friendly sizes."""
    if isinstance(value, str):
        return value[:RAW_MAX_STRING]
    if depth >= RAW_MAX_DEPTH:
        return None
    if isinstance(value, list):
        return [cap_raw(item, depth + 1) for item in value[:RAW_MAX_ITEMS]]
    if isinstance(value, dict):
        items = list(value.items())[:RAW_MAX_ITEMS]
        return {str(key)[:RAW_MAX_STRING]: cap_raw(item, depth + 1) for key, item in items}
    if value is None or isinstance(value, bool | int | float):
        return value
    return None


def map_api_error(error: anthropic.APIError) -> ProviderError:
    """Say whether trying again can help, keeping the server's Retry-After when it sent one."""
    if isinstance(error, anthropic.APITimeoutError):
        return ProviderUnavailableError("timeout", "the model did not answer in time")
    if isinstance(error, anthropic.APIConnectionError):
        return ProviderUnavailableError("connection_error", "cannot reach the model")
    if not isinstance(error, anthropic.APIStatusError):
        return ProviderOutputError("invalid_response", type(error).__name__)
    status = error.status_code
    detail = f"HTTP {status} {_error_type(error.body)}".rstrip()
    if status in _TRANSIENT_STATUSES or status >= 500:
        code = {429: "rate_limited", 529: "overloaded"}.get(status, "server_error")
        retry_after = retry_after_seconds(error.response.headers)
        return ProviderUnavailableError(code, detail, retry_after=retry_after)
    # A bad key or missing model access is a configuration problem no retry fixes: the chain moves
    # on to the next provider, and the reason says what to fix.
    reason = {401: "auth_failed", 403: "auth_failed", 404: "model_not_found"}
    return ProviderOutputError(reason.get(status, "request_rejected"), detail)


def _error_type(body: object) -> str:
    """The API's machine-readable error type (``rate_limit_error``, ...), never its free text."""
    error = body.get("error") if isinstance(body, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    return kind[:64] if isinstance(kind, str) and kind.isidentifier() else ""
