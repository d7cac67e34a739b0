"""The configurable fallback chain of vision providers, and its settings.

Each provider gets up to ``max_attempts`` tries on transient failures (429, 5xx, 529, timeouts,
connection errors), waiting as the server's Retry-After says or with jittered exponential backoff;
then the next provider is asked. When every provider failed, the caller learns whether waiting can
help (:class:`ProviderUnavailableError`: the message is retried later) or not
(:class:`ProviderOutputError`: the item is marked failed with the reason).

A fallback is never silent. The analysis records which providers failed before the one that
answered, and why; a provider that rejects its credentials or model (401, 403, 404) is reported
as degraded by ``/health`` and logged once as an error, until it answers again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import stamina
import structlog
from msgspec.structs import force_setattr

from collections_analyzer.local.classifier import DEFAULT_MODEL, SceneClassifier
from collections_analyzer.local.objects import DEFAULT_TAGGER_DIR, ObjectTagger
from collections_analyzer.providers.base import (
    AnalysisResult,
    ImageInput,
    ProviderError,
    ProviderOutputError,
    ProviderUnavailableError,
    VisionProvider,
)
from collections_analyzer.providers.local import build_local
from collections_analyzer.providers.messages import ClaudeProvider
from collections_shared.domain.analysis import ProviderFailure
from collections_shared.health import Degradations
from collections_shared.settings import ConfigError

logger = structlog.get_logger(__name__)

PROVIDER_NAMES = ("anthropic", "bedrock", "local")
MISCONFIGURED = frozenset({"auth_failed", "model_not_found"})
"""Failures only a change of configuration fixes (a bad key, no access to the model)."""
Seconds = Annotated[float, msgspec.Meta(gt=0, le=3600)]


class ProviderSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Which providers analyze images, in which order, and how hard each is tried.

    Loaded with ``load_settings(ProviderSettings, prefix="ANALYZER_")``: each field reads
    ``ANALYZER_<FIELD>`` or else ``<FIELD>`` (so ``ANTHROPIC_API_KEY`` works as is).
    """

    providers: list[str] | str = ""
    """Order of providers, comma-separated in the environment (``anthropic,bedrock,local``).
    Empty: ``anthropic,local`` when an Anthropic key is set, else ``local``. Always a list after
    construction."""
    anthropic_api_key: str = ""
    anthropic_base_url: str | None = None
    """Another Messages API endpoint (a proxy, or the local fake in tests)."""
    anthropic_model: str = "claude-sonnet-5-5"
    bedrock_model: str = "global.anthropic.claude-sonnet-5-5"
    """A Bedrock model or inference-profile id with the Messages API (check the account's
    model access and region; e.g. ``us.anthropic.claude-sonnet-4-5-20250929-v1:0``)."""
    bedrock_region: str | None = None
    """Defaults to ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` / the AWS profile's region."""
    bedrock_base_url: str | None = None
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3
    """Tries per provider for transient failures (the first try included)."""
    timeout_seconds: Seconds = 60.0
    """Per request to a remote model."""
    max_output_tokens: Annotated[int, msgspec.Meta(ge=256, le=32768)] = 8192
    """Room for a full v2 analysis (every field at its cap is about 14,000 characters of JSON;
    a real one is a fraction) with tokenizer headroom."""
    retry_wait_initial: Seconds = 1.0
    retry_wait_max: Seconds = 20.0
    max_retry_after: Seconds = 60.0
    """A Retry-After longer than this is not waited for: the next provider is asked instead."""
    tagger_enabled: bool = True
    """Object tags from the Node detector in the local analyzer."""
    tagger_dir: str | None = None
    ocr_engine: Literal["both", "rapidocr", "tesseract"] = "both"
    """The local analyzer's OCR: ``both`` (Tesseract, then RapidOCR's PP-OCRv6 where text is
    likely), or one of them alone."""
    ocr_language: str = "eng"
    """Tesseract's language data (RapidOCR's models read Latin script and Chinese)."""
    classifier_enabled: bool = True
    """ImageNet scene and object labels from EfficientNet-Lite0 in the local analyzer."""
    classifier_model: str | None = None
    """The converted ONNX model (default: ``services/analyzer/classifier`` in the tree)."""

    def __post_init__(self) -> None:
        force_setattr(self, "providers", _provider_names(self.providers, self.anthropic_api_key))

    @property
    def order(self) -> list[str]:
        """The provider names, in order (``providers``, typed as the list it always is)."""
        return list(self.providers)


def _provider_names(value: list[str] | str, api_key: str) -> list[str]:
    raw = value.split(",") if isinstance(value, str) else value
    names = list(dict.fromkeys(name.strip().lower() for name in raw if name.strip()))
    if not names:
        return ["anthropic", "local"] if api_key else ["local"]
    for name in names:
        if name not in PROVIDER_NAMES:
            msg = f"ANALYZER_PROVIDERS: unknown provider {name!r} (use {', '.join(PROVIDER_NAMES)})"
            raise ValueError(msg)
    if "anthropic" in names and not api_key:
        msg = "ANTHROPIC_API_KEY is required when ANALYZER_PROVIDERS includes anthropic"
        raise ValueError(msg)
    return names


class ProviderChain:
    """Tries providers in order, each with retries; one per process."""

    def __init__(
        self,
        providers: Sequence[VisionProvider],
        settings: ProviderSettings,
        degradations: Degradations | None = None,
    ) -> None:
        if not providers:
            msg = "a provider chain needs at least one provider"
            raise ValueError(msg)
        self.providers = tuple(providers)
        self._settings = settings
        self.degradations = degradations or Degradations()

    async def analyze(self, image: ImageInput) -> AnalysisResult:
        """The first provider's analysis that succeeds.

        Raises:
            ProviderUnavailableError: every provider failed and at least one only transiently.
            ProviderOutputError: every provider failed for a reason retrying will not fix.
        """
        failures: list[tuple[str, ProviderError]] = []
        for provider in self.providers:
            try:
                result = await self._with_retries(provider, image)
            except ProviderError as error:
                self._note_failure(provider.name, error)
                failures.append((provider.name, error))
                continue
            self.degradations.recover(provider.name)
            if not failures:
                return result
            fallback = [
                ProviderFailure(provider=name, code=error.code, message=error.message[:300])
                for name, error in failures
            ]
            return msgspec.structs.replace(result, fallback=fallback)
        raise _combined(failures)

    def _note_failure(self, name: str, error: ProviderError) -> None:
        logger.warning(
            "analyzer.provider_failed",
            provider=name,
            code=error.code,
            transient=isinstance(error, ProviderUnavailableError),
        )
        if error.code in MISCONFIGURED:
            self.degradations.degrade(name, f"{error.code}: {error.message}"[:300])

    async def _with_retries(self, provider: VisionProvider, image: ImageInput) -> AnalysisResult:
        settings = self._settings
        async for attempt in stamina.retry_context(
            on=self._backoff,
            attempts=settings.max_attempts,
            timeout=None,
            wait_initial=settings.retry_wait_initial,
            wait_max=settings.retry_wait_max,
            wait_jitter=settings.retry_wait_initial,
        ):
            with attempt:
                return await provider.analyze(image)
        msg = "stamina ended without a result or an error"  # unreachable: attempts >= 1
        raise AssertionError(msg)

    def _backoff(self, error: Exception) -> bool | float:
        """Retry transient failures only; honour Retry-After unless it is unreasonably long."""
        if not isinstance(error, ProviderUnavailableError):
            return False
        if error.retry_after is None:
            return True
        if error.retry_after > self._settings.max_retry_after:
            return False
        return error.retry_after

    async def aclose(self) -> None:
        """Close every provider, even if one fails to close."""
        for provider in self.providers:
            try:
                await provider.aclose()
            except Exception:  # noqa: BLE001 - closing the others matters more than this error
                logger.warning("analyzer.provider_close_failed", provider=provider.name)


def _combined(failures: list[tuple[str, ProviderError]]) -> ProviderError:
    summary = "; ".join(f"{name}: {error.code}" for name, error in failures)
    transient = [error for _, error in failures if isinstance(error, ProviderUnavailableError)]
    if transient:
        waits = [error.retry_after for error in transient if error.retry_after is not None]
        return ProviderUnavailableError(
            transient[-1].code,
            f"all providers failed ({summary})",
            retry_after=max(waits, default=None),
        )
    return ProviderOutputError(failures[-1][1].code, f"all providers failed ({summary})")


def build_chain(
    settings: ProviderSettings, degradations: Degradations | None = None
) -> ProviderChain:
    """The chain ``settings`` describes, with its clients created (nothing is contacted yet).

    Raises:
        ConfigError: the settings name a provider that cannot be built.
    """
    providers = [_build(name, settings) for name in settings.order]
    return ProviderChain(providers, settings, degradations)


def _build(name: str, settings: ProviderSettings) -> VisionProvider:
    if name == "anthropic":
        if not settings.anthropic_api_key:
            raise ConfigError("invalid configuration: ANTHROPIC_API_KEY: is required")
        return ClaudeProvider.anthropic(
            api_key=settings.anthropic_api_key,
            model=settings.anthropic_model,
            base_url=settings.anthropic_base_url,
            timeout_seconds=settings.timeout_seconds,
            max_output_tokens=settings.max_output_tokens,
        )
    if name == "bedrock":
        try:
            return ClaudeProvider.bedrock(
                model=settings.bedrock_model,
                region=settings.bedrock_region or None,
                base_url=settings.bedrock_base_url,
                timeout_seconds=settings.timeout_seconds,
                max_output_tokens=settings.max_output_tokens,
            )
        except ValueError as error:  # the SDK found no region anywhere
            raise ConfigError(f"invalid configuration: ANALYZER_BEDROCK_REGION: {error}") from error
    if name == "local":
        tagger_dir = Path(settings.tagger_dir) if settings.tagger_dir else DEFAULT_TAGGER_DIR
        model = Path(settings.classifier_model) if settings.classifier_model else DEFAULT_MODEL
        return build_local(
            tagger=ObjectTagger(tagger_dir) if settings.tagger_enabled else None,
            ocr=settings.ocr_engine,
            classifier=SceneClassifier(model) if settings.classifier_enabled else None,
            ocr_language=settings.ocr_language,
        )
    raise ConfigError(f"invalid configuration: ANALYZER_PROVIDERS: unknown provider {name!r}")
