"""The Voyage AI embedding provider, through the official ``voyageai`` SDK.

The SDK's own retries are off (``max_retries=0``, one attempt per call): the embedder retries with
backoff around the whole operation and the search service prefers a fast failure, so retries
inside the SDK would only multiply the attempts and hide the ``Retry-After`` of a 429. Every SDK
error becomes an :class:`EmbeddingError` saying whether a retry can help.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import voyageai.error
from voyageai.client_async import AsyncClient

from collections_embeddings.base import EmbeddingError
from collections_shared.retry import retry_after_seconds

DEFAULT_MODEL = "voyage-3.5-lite"
DEFAULT_DIMENSIONS = 1024
BATCH_SIZE = 128
"""Texts per request: the SDK's own batch constant; a capped document is ~500 tokens, so a batch
stays far below the per-request token limit."""

InputType = Literal["document", "query"]

_RETRYABLE_TYPES = (
    voyageai.error.RateLimitError,
    voyageai.error.ServerError,
    voyageai.error.ServiceUnavailableError,
    voyageai.error.Timeout,
    voyageai.error.APIConnectionError,
    voyageai.error.TryAgain,
)
_CODES: Mapping[type[voyageai.error.VoyageError], str] = {
    voyageai.error.RateLimitError: "rate_limited",
    voyageai.error.Timeout: "timeout",
    voyageai.error.APIConnectionError: "connection_failed",
    voyageai.error.AuthenticationError: "unauthorized",
}


class VoyageEmbeddingProvider:
    """``voyage-3.5-lite`` (1024 dimensions) with ``input_type`` document or query."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str = DEFAULT_MODEL,
        dimensions: int = DEFAULT_DIMENSIONS,
        base_url: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Configure the client; nothing is sent until the first call.

        Args:
            api_key: the Voyage key (required: the SDK would otherwise read the environment).
            model: a Voyage text-embedding model.
            dimensions: the vector length asked for (``output_dimension``) and checked.
            base_url: another API host, e.g. a local fake; ``None`` is Voyage's own.
            timeout: seconds for one request, connect to last byte.
        """
        if not api_key:
            msg = "the Voyage provider needs an API key"
            raise ValueError(msg)
        self.model = model
        self.dimensions = dimensions
        self._client = AsyncClient(
            api_key=api_key, max_retries=0, timeout=timeout, base_url=base_url or None
        )

    async def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors for ``texts`` to be stored, in batches of :data:`BATCH_SIZE`."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH_SIZE):
            vectors += await self._embed(texts[start : start + BATCH_SIZE], "document")
        return vectors

    async def embed_query(self, text: str) -> list[float]:
        """The vector for one search query."""
        (vector,) = await self._embed([text], "query")
        return vector

    async def _embed(self, texts: list[str], input_type: InputType) -> list[list[float]]:
        try:
            result = await self._client.embed(
                texts,
                model=self.model,
                input_type=input_type,
                output_dimension=self.dimensions,
            )
            embeddings = result.embeddings
        except voyageai.error.VoyageError as error:
            raise to_embedding_error(error) from error
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            # The SDK parses the body lazily: a 200 without "data" or "usage" ends up here.
            raise _malformed(f"unreadable response: {error!r}") from error
        return validated(embeddings, count=len(texts), dimensions=self.dimensions)


def validated(embeddings: object, *, count: int, dimensions: int) -> list[list[float]]:
    """``embeddings`` as unit vectors if there are ``count`` finite ones of ``dimensions``.

    Raises:
        EmbeddingError: ``malformed_output`` otherwise.
    """
    try:
        matrix = np.asarray(embeddings, dtype=np.float64)
    except (TypeError, ValueError) as error:  # ragged rows or non-numbers
        raise _malformed(f"not a matrix of numbers: {error}") from error
    if matrix.shape != (count, dimensions):
        raise _malformed(f"expected {count} vectors of {dimensions}, got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise _malformed("non-finite values in the vectors")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if (norms == 0).any():
        raise _malformed("a zero vector")
    # Voyage returns unit vectors already; renormalizing removes float32 rounding only.
    result: list[list[float]] = (matrix / norms).tolist()
    return result


def to_embedding_error(error: voyageai.error.VoyageError) -> EmbeddingError:
    """Map an SDK error to a code, and say whether a retry (after how long) can help."""
    status = error.http_status if isinstance(error.http_status, int) else None
    server_side = status is not None and (status >= 500 or status in {408, 429})
    retryable = isinstance(error, _RETRYABLE_TYPES) or server_side
    if status is not None and 200 <= status < 300:
        return _malformed(f"unreadable response body: {error.user_message}")
    code = _CODES.get(type(error)) or _status_code(status, retryable=retryable)
    retry_after = retry_after_seconds(error.headers) if retryable else None
    message = f"Voyage: {error.user_message or type(error).__name__}"
    return EmbeddingError(code, message, retryable=retryable, retry_after=retry_after)


def _status_code(status: int | None, *, retryable: bool) -> str:
    if retryable:
        return "provider_unavailable"
    if status in (401, 403):
        return "unauthorized"
    return "request_rejected" if status is not None else "provider_error"


def _malformed(message: str) -> EmbeddingError:
    # The request was fine and the provider answered nonsense: usually transient, and bounded by
    # the caller's retry budget; a permanent cause (e.g. a wrong dimension) then fails the item.
    return EmbeddingError("malformed_output", message, retryable=True)
