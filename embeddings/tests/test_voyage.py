"""The Voyage provider through the real ``voyageai`` SDK against a local fake of the API."""

from __future__ import annotations

from collections.abc import Awaitable, Iterator

import numpy as np
import pytest

from collections_devtools.fakes.voyage import FakeVoyage, Reply, fake_vector
from collections_embeddings.base import EmbeddingError
from collections_embeddings.voyage import BATCH_SIZE, VoyageEmbeddingProvider


@pytest.fixture(name="fake")
def fx_fake() -> Iterator[FakeVoyage]:
    with FakeVoyage() as fake:
        yield fake


@pytest.fixture(name="voyage")
def fx_voyage(fake: FakeVoyage) -> VoyageEmbeddingProvider:
    return VoyageEmbeddingProvider(api_key=fake.api_key, base_url=fake.url, timeout=5)


async def failure(call: Awaitable[object]) -> EmbeddingError:
    """The EmbeddingError that awaiting ``call`` raises."""
    with pytest.raises(EmbeddingError) as caught:
        await call
    return caught.value


async def test_documents_are_sent_as_documents(
    fake: FakeVoyage, voyage: VoyageEmbeddingProvider
) -> None:
    """embed_documents asks for voyage-3.5-lite, 1024 dimensions and input_type document."""
    vectors = await voyage.embed_documents(["a red kite", "a sleeping cat"])
    (request,) = fake.requests
    assert ("POST", "/v1/embeddings") == (request.method, request.path)
    assert f"Bearer {fake.api_key}" == request.authorization
    assert ["a red kite", "a sleeping cat"] == request.texts
    assert ("document", "voyage-3.5-lite") == (request.input_type, request.body["model"])
    assert 1024 == request.body["output_dimension"]
    expected = [fake_vector(text, 1024) for text in ["a red kite", "a sleeping cat"]]
    assert np.allclose(expected, vectors, atol=1e-6)


async def test_queries_are_sent_as_queries(
    fake: FakeVoyage, voyage: VoyageEmbeddingProvider
) -> None:
    """embed_query sends one text with input_type query and returns its unit vector."""
    vector = await voyage.embed_query("dogs on a beach")
    assert ["query"] == [request.input_type for request in fake.requests]
    assert 1024 == len(vector)
    assert np.isclose(1.0, np.linalg.norm(vector))


async def test_documents_are_batched_in_order(
    fake: FakeVoyage, voyage: VoyageEmbeddingProvider
) -> None:
    """300 texts go out as 128 + 128 + 44 and come back in their original order."""
    texts = [f"photo {i}" for i in range(300)]
    vectors = await voyage.embed_documents(texts)
    assert [128, 128, 44] == [len(request.texts) for request in fake.requests]
    assert 128 == BATCH_SIZE
    assert np.allclose([fake_vector(t, 1024) for t in texts], vectors, atol=1e-6)


async def test_no_texts_send_no_request(fake: FakeVoyage, voyage: VoyageEmbeddingProvider) -> None:
    """An empty list returns at once without calling the API."""
    assert [] == await voyage.embed_documents([])
    assert [] == fake.requests


async def test_rate_limit_is_retryable_with_retry_after(
    fake: FakeVoyage, voyage: VoyageEmbeddingProvider
) -> None:
    """A 429 becomes rate_limited with the header's delay, after exactly one attempt."""
    fake.script(Reply.rate_limited(retry_after="7"))
    error = await failure(voyage.embed_documents(["x"]))
    assert ("rate_limited", True, 7.0) == (error.code, error.retryable, error.retry_after)
    assert 1 == len(fake.requests)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_retryable(
    fake: FakeVoyage, voyage: VoyageEmbeddingProvider, status: int
) -> None:
    """5xx answers become provider_unavailable, retryable, and the SDK does not retry itself."""
    fake.script(Reply.error(status))
    error = await failure(voyage.embed_query("x"))
    assert ("provider_unavailable", True) == (error.code, error.retryable)
    assert 1 == len(fake.requests)


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "request_rejected"), (403, "unauthorized"), (422, "request_rejected")],
)
async def test_client_errors_are_not_retryable(
    fake: FakeVoyage, voyage: VoyageEmbeddingProvider, status: int, code: str
) -> None:
    """4xx answers other than 429 are final."""
    fake.script(Reply.error(status, "bad input"))
    error = await failure(voyage.embed_documents(["x"]))
    assert (code, False, None) == (error.code, error.retryable, error.retry_after)


async def test_wrong_key_is_unauthorized(fake: FakeVoyage) -> None:
    """A key the API does not accept gives a final unauthorized error."""
    voyage = VoyageEmbeddingProvider(api_key="wrong", base_url=fake.url)
    error = await failure(voyage.embed_query("x"))
    assert ("unauthorized", False) == (error.code, error.retryable)


async def test_slow_answer_times_out_retryably(fake: FakeVoyage) -> None:
    """An answer later than the timeout becomes a retryable timeout."""
    voyage = VoyageEmbeddingProvider(api_key=fake.api_key, base_url=fake.url, timeout=0.3)
    fake.script(Reply.slow(5))
    error = await failure(voyage.embed_documents(["x"]))
    assert ("timeout", True) == (error.code, error.retryable)


async def test_unreachable_host_is_a_retryable_connection_failure() -> None:
    """Nothing listening on the port gives connection_failed, retryable."""
    closed = FakeVoyage()
    url = closed.url
    closed.close()
    voyage = VoyageEmbeddingProvider(api_key="k", base_url=url, timeout=2)
    error = await failure(voyage.embed_query("x"))
    assert ("connection_failed", True) == (error.code, error.retryable)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(drop=1),
        Reply(dimensions=512),
        Reply(nan=True),
        Reply(body=b"<html>gateway</html>"),
        Reply(body=b'{"object": "list"}'),
    ],
    ids=["wrong-count", "wrong-dimension", "nan", "not-json", "no-data"],
)
async def test_malformed_answers_are_rejected(
    fake: FakeVoyage, voyage: VoyageEmbeddingProvider, reply: Reply
) -> None:
    """A 200 with the wrong count, dimension, a NaN or an unreadable body is malformed_output."""
    fake.script(reply)
    error = await failure(voyage.embed_documents(["first", "second"]))
    assert "malformed_output" == error.code


def test_an_api_key_is_required() -> None:
    """The provider refuses to start without a key rather than read one from elsewhere."""
    with pytest.raises(ValueError, match="API key"):
        VoyageEmbeddingProvider(api_key="")
