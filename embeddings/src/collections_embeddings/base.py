"""The embedding provider interface."""

from __future__ import annotations

from typing import Protocol

MISCONFIGURED = frozenset({"unauthorized"})
"""Error codes only a change of configuration fixes (a rejected or unauthorised key)."""


class EmbeddingError(Exception):
    """The provider could not embed the input."""

    def __init__(
        self, code: str, message: str, *, retryable: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after


class EmbeddingProvider(Protocol):
    """Turns texts into unit-length vectors of a fixed dimension."""

    model: str
    """Stored with every vector, e.g. ``voyage-3.5-lite`` or ``local-minilm-l6-v2-int8``."""
    dimensions: int

    async def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors for texts to be stored (Voyage ``input_type=document``)."""
        ...

    async def embed_query(self, text: str) -> list[float]:
        """The vector for a search query (Voyage ``input_type=query``)."""
        ...
