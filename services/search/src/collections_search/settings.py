"""Settings of the search service: environment variables, ``SEARCH_``-prefixed ones win.

The query embedding provider is :class:`collections_embeddings.factory.EmbeddingSettings`
(it must match the embedder's, or vector search finds nothing; both default to the same).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from collections_shared.settings import CommonSettings, Port, PositiveInt

ENV_PREFIX = "SEARCH_"


class Settings(CommonSettings, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Port = 8004
    rrf_k: PositiveInt = 60
    """Reciprocal-rank-fusion constant (Cormack et al. 2009)."""
    vector_weight: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.8
    """Weight of the vector arm in hybrid fusion; the keyword arm gets the rest (measured on the
    golden set with local providers: bench/search_quality.py)."""
    candidates: PositiveInt = 100
    """How many candidates each arm contributes before fusion."""
    ef_search: PositiveInt = 100
    url_expiry_seconds: PositiveInt = 3600
    anthropic_api_key: str = ""
    """Enables LLM answers and agentic planning; without it both are local and rule-based."""
    anthropic_base_url: str = ""
    anthropic_model: str = "claude-haiku-4-5"
