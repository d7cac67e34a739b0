"""Any vision provider, with each attempt counted, timed and its tokens added in ``/metrics``."""

from __future__ import annotations

from collections_analyzer.providers.base import (
    AnalysisResult,
    ImageInput,
    ProviderError,
    VisionProvider,
)
from collections_shared import metrics


class MeteredProvider:
    """Delegates to ``inner``: every call (the chain's retries too) is one count and one timing."""

    def __init__(self, inner: VisionProvider) -> None:
        self._inner = inner
        self.name = inner.name

    async def analyze(self, image: ImageInput) -> AnalysisResult:
        with metrics.provider_call(self.name, "analyze") as outcome:
            try:
                result = await self._inner.analyze(image)
            except ProviderError as error:
                outcome["outcome"] = error.code
                raise
        metrics.count_tokens(
            self.name,
            "analyze",
            input_tokens=result.input_tokens or 0,
            output_tokens=result.output_tokens or 0,
        )
        return result

    async def aclose(self) -> None:
        await self._inner.aclose()
