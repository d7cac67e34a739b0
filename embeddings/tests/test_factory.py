"""Provider selection from settings: auto, local, voyage, and how the environment is read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collections_devtools.fakes.voyage import FakeVoyage
from collections_embeddings import voyage
from collections_embeddings.factory import (
    EmbeddingSettings,
    build_provider,
    load_embedding_settings,
)
from collections_embeddings.local import LocalEmbeddingProvider
from collections_shared.settings import ConfigError


@pytest.fixture(name="fake")
def fx_fake() -> Iterator[FakeVoyage]:
    with FakeVoyage() as fake:
        yield fake


def test_auto_without_a_key_is_local() -> None:
    """With no Voyage key the offline model is used."""
    provider = build_provider(load_embedding_settings({}))
    assert isinstance(provider, LocalEmbeddingProvider)
    assert ("local-minilm-l6-v2-int8", 384) == (provider.model, provider.dimensions)


def test_auto_with_a_key_is_voyage() -> None:
    """VOYAGE_API_KEY alone switches to voyage-3.5-lite at 1024 dimensions."""
    provider = build_provider(load_embedding_settings({"VOYAGE_API_KEY": "k"}))
    assert isinstance(provider, voyage.VoyageEmbeddingProvider)
    assert ("voyage-3.5-lite", 1024) == (provider.model, provider.dimensions)


def test_explicit_local_wins_over_a_key() -> None:
    """EMBEDDING_PROVIDER=local keeps the offline model even when a key is present."""
    settings = load_embedding_settings({"EMBEDDING_PROVIDER": "local", "VOYAGE_API_KEY": "k"})
    assert "local" == settings.resolved_provider()


def test_voyage_without_a_key_fails_fast() -> None:
    """Asking for Voyage with no key is a start-up error, not a failure per item."""
    with pytest.raises(ValueError, match="API key"):
        build_provider(EmbeddingSettings(provider="voyage"))


def test_prefixed_variables_are_read_and_generic_ones_ignored() -> None:
    """EMBEDDING_* and VOYAGE_* set the fields; a bare TIMEOUT or PROVIDER does not."""
    settings = load_embedding_settings(
        {
            "EMBEDDING_TIMEOUT": "4.5",
            "EMBEDDING_VOYAGE_BASE_URL": "http://127.0.0.1:9/v1",
            "VOYAGE_MODEL": "voyage-3.5",
            "TIMEOUT": "999",
            "PROVIDER": "voyage",
        }
    )
    assert (4.5, "auto") == (settings.timeout, settings.provider)
    assert ("http://127.0.0.1:9/v1", "voyage-3.5") == (
        settings.voyage_base_url,
        settings.voyage_model,
    )


def test_bad_provider_names_the_variable() -> None:
    """An unknown provider stops start-up with the variable's name."""
    with pytest.raises(ConfigError, match="EMBEDDING_PROVIDER"):
        load_embedding_settings({"EMBEDDING_PROVIDER": "openai"})


def test_repr_masks_the_api_key() -> None:
    """Settings can be logged without leaking the key."""
    text = repr(EmbeddingSettings(voyage_api_key="secret-key-123"))
    assert "secret-key-123" not in text
    assert "voyage_api_key='***'" in text


def test_defaults_match_the_voyage_module() -> None:
    """The settings' literal defaults stay in step with the provider's constants."""
    settings = EmbeddingSettings()
    assert (voyage.DEFAULT_MODEL, voyage.DEFAULT_DIMENSIONS) == (
        settings.voyage_model,
        settings.voyage_dimensions,
    )


async def test_built_voyage_provider_talks_to_the_configured_host(fake: FakeVoyage) -> None:
    """The base URL and timeout from the environment reach the SDK client."""
    settings = load_embedding_settings(
        {"VOYAGE_API_KEY": fake.api_key, "VOYAGE_BASE_URL": fake.url, "EMBEDDING_TIMEOUT": "5"}
    )
    vector = await build_provider(settings).embed_query("harbour at night")
    assert 1024 == len(vector)
    assert ["query"] == [request.input_type for request in fake.requests]
