"""What every vision provider takes and returns, and how it reports failure."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import msgspec

from collections_shared.domain.analysis import Analysis, ProviderFailure


class ImageInput(msgspec.Struct, frozen=True, kw_only=True):
    """The image as a provider sees it: the preview derivative, never the original."""

    data: bytes
    """JPEG bytes of the preview (at most 1568 px on the long edge, no metadata)."""
    media_type: str = "image/jpeg"
    width: int
    height: int
    filename: str = ""
    """The uploader's file name (sanitized); a weak cue, never an instruction."""
    taken_at: datetime | None = None
    camera: str = ""


class AnalysisResult(msgspec.Struct, frozen=True, kw_only=True):
    """An analysis plus where it came from, stored as one analysis version."""

    analysis: Analysis
    provider: str
    """``anthropic``, ``bedrock`` or ``local``."""
    model: str
    prompt_version: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: int = 0
    raw: dict[str, Any] = msgspec.field(default_factory=dict)
    """The provider's structured output before normalization, for audit."""
    fallback: list[ProviderFailure] = msgspec.field(default_factory=list)
    """Providers earlier in the chain that failed, and why (set by the chain)."""


class ProviderError(Exception):
    """A provider could not produce an analysis."""

    def __init__(self, code: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after = retry_after


class ProviderUnavailableError(ProviderError):
    """Worth retrying: throttled (429), overloaded or 5xx, timed out, connection failed."""


class ProviderOutputError(ProviderError):
    """The provider answered, but not with a usable analysis (malformed, empty, refused)."""


class VisionProvider(Protocol):
    """Analyzes one image."""

    name: str

    async def analyze(self, image: ImageInput) -> AnalysisResult:
        """Return an analysis or raise :class:`ProviderError`."""
        ...

    async def aclose(self) -> None:
        """Release clients, subprocesses, sessions."""
        ...
