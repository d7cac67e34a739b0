"""Settings of the search service: environment variables, ``SEARCH_``-prefixed ones win.

The query embedding provider is :class:`collections_embeddings.factory.EmbeddingSettings`
(it must match the embedder's, or vector search finds nothing; both default to the same).
Claude (agentic planning, answers) is reached with the API key, else through Bedrock when
``SEARCH_BEDROCK_MODEL`` is set, else not at all: see :mod:`collections_shared.llm`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from collections_search.bm25 import Bm25
from collections_shared.llm import ClaudeConfig
from collections_shared.settings import CommonSettings, Port, PositiveInt

ENV_PREFIX = "SEARCH_"


class Settings(CommonSettings, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Port = 8004
    candidates: PositiveInt = 100
    """How many candidates each arm contributes before fusion."""
    ef_search: PositiveInt = 100
    vector_exact_max_items: PositiveInt = 2000
    """A tenant with at most this many items is searched by reading all its vectors (about
    6 ms at 2,000 on one core, recall 1); a larger one through the HNSW index when that reads
    fewer (``repository.index_pays``)."""
    bm25_k1: Annotated[float, msgspec.Meta(ge=0, le=10)] = 1.2
    """BM25 term-frequency saturation (0: presence only)."""
    bm25_b: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.75
    """BM25 length normalisation (0: none, 1: full)."""
    keyword_typo_similarity: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.3
    """pg_trgm similarity a vocabulary term needs to stand in for an unknown query word
    ("fukouka" and "fukuoka" share 4 of 12 trigrams: 0.33)."""
    url_expiry_seconds: PositiveInt = 3600
    anthropic_api_key: str = ""
    """Enables Claude for agentic planning and answers; without it (or Bedrock) agentic mode
    uses the offline rules planner and ``answer`` stays null (``answer_unavailable: no_llm``)."""
    anthropic_base_url: str = ""
    anthropic_model: str = "claude-haiku-4-5"
    bedrock_model: str = ""
    """Claude through Amazon Bedrock when no API key is set (a model or inference-profile id)."""
    bedrock_region: str = ""
    bedrock_base_url: str = ""
    llm_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    """Per request to Claude; a search is interactive, so a slow model gives way to the rules."""
    llm_max_retries: Annotated[int, msgspec.Meta(ge=0, le=5)] = 1
    """The SDK's own retries (429 honouring Retry-After, 5xx), within ``agent_timeout_seconds``."""
    agent_max_iterations: Annotated[int, msgspec.Meta(ge=1, le=6)] = 3
    """Model calls of the agentic tool loop; the last one must finish (rank what it has seen)."""
    agent_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 20.0
    """The whole tool loop; past it the rules planner answers instead."""
    agent_tool_results: Annotated[int, msgspec.Meta(ge=1, le=50)] = 20
    """Results one search tool call shows the model."""
    answer_max_results: Annotated[int, msgspec.Meta(ge=1, le=20)] = 8
    """Top results an answer is written from."""
    answer_max_tokens: Annotated[int, msgspec.Meta(ge=64, le=4096)] = 400

    def bm25(self) -> Bm25:
        """Ranking parameters of the keyword arm."""
        return Bm25(k1=self.bm25_k1, b=self.bm25_b, typo_similarity=self.keyword_typo_similarity)

    def claude(self) -> ClaudeConfig:
        """How this service reaches Claude."""
        return ClaudeConfig(
            api_key=self.anthropic_api_key,
            base_url=self.anthropic_base_url,
            model=self.anthropic_model,
            bedrock_model=self.bedrock_model,
            bedrock_region=self.bedrock_region,
            bedrock_base_url=self.bedrock_base_url,
            timeout_seconds=self.llm_timeout_seconds,
            max_retries=self.llm_max_retries,
        )
