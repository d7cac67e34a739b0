"""Which embedding provider a service uses, from its settings.

The embedder (documents) and search (queries) must resolve to the same model, or stored vectors
and query vectors live in different spaces; both read the same variables through
:func:`load_embedding_settings`, and search compares only vectors of its provider's ``model``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from collections_embeddings.base import EmbeddingProvider
from collections_shared.settings import parse_settings

ENV_PREFIX = "EMBEDDING_"

PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]
Threads = Annotated[int, msgspec.Meta(ge=1, le=64)]


class EmbeddingSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How to embed: ``EMBEDDING_<FIELD>``; ``voyage_*`` fields also as ``VOYAGE_API_KEY`` etc."""

    provider: Literal["auto", "local", "voyage"] = "auto"
    """``auto``: Voyage when ``VOYAGE_API_KEY`` is set, else the offline local model."""
    voyage_api_key: str = ""
    voyage_base_url: str = ""
    """Another Voyage-compatible host (a local fake in tests); empty means Voyage's own."""
    # Literals, not voyage.py's constants: importing the Voyage SDK takes about a second, which a
    # service on the local model should not pay. A test keeps the two in step.
    voyage_model: str = "voyage-3.5-lite"
    voyage_dimensions: Annotated[int, msgspec.Meta(ge=1)] = 1024
    timeout: PositiveFloat = 30.0
    """Seconds for one Voyage request."""
    local_threads: Threads = 2
    """onnxruntime intra-op threads for the local model."""

    def resolved_provider(self) -> Literal["local", "voyage"]:
        """The provider ``auto`` stands for with these settings."""
        if self.provider == "auto":
            return "voyage" if self.voyage_api_key else "local"
        return self.provider

    def __repr__(self) -> str:
        """Like the default, with the API key masked: settings get logged at start-up."""
        fields = {name: getattr(self, name) for name in self.__struct_fields__}
        if fields["voyage_api_key"]:
            fields["voyage_api_key"] = "***"
        return f"EmbeddingSettings({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


def load_embedding_settings(env: Mapping[str, str] | None = None) -> EmbeddingSettings:
    """Read :class:`EmbeddingSettings` from ``env`` (default: the process environment).

    Raises:
        ConfigError: naming the variable that holds a bad value.
    """
    source = os.environ if env is None else env
    # parse_settings also falls back to unprefixed names; ``PROVIDER`` or ``TIMEOUT`` are too
    # generic to trust, so only ``EMBEDDING_*`` and ``VOYAGE_*`` variables are read.
    relevant = {k: v for k, v in source.items() if k.startswith((ENV_PREFIX, "VOYAGE_"))}
    return parse_settings(EmbeddingSettings, relevant, prefix=ENV_PREFIX)


def build_provider(settings: EmbeddingSettings) -> EmbeddingProvider:
    """The provider the settings ask for, ready to use (the local model is loaded here).

    Raises:
        ValueError: ``voyage`` was asked for without an API key.
    """
    # Imported here so that a service pays for onnxruntime or the Voyage SDK only if it uses it.
    if settings.resolved_provider() == "voyage":
        from collections_embeddings.voyage import VoyageEmbeddingProvider  # noqa: PLC0415

        return VoyageEmbeddingProvider(
            api_key=settings.voyage_api_key,
            model=settings.voyage_model,
            dimensions=settings.voyage_dimensions,
            base_url=settings.voyage_base_url or None,
            timeout=settings.timeout,
        )
    from collections_embeddings.local import LocalEmbeddingProvider  # noqa: PLC0415

    return LocalEmbeddingProvider(threads=settings.local_threads)
