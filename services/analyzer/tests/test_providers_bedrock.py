"""The Bedrock provider through the real SDK (SigV4 and all) against the local fake invoke route."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote

import pytest
from PIL import Image

from collections_analyzer.providers.base import (
    ImageInput,
    ProviderOutputError,
    ProviderUnavailableError,
)
from collections_analyzer.providers.messages import ClaudeProvider
from collections_devtools.fakes.anthropic import (
    SAMPLE_ANALYSIS,
    FakeAnthropic,
    Reply,
    text_reply,
)
from collections_shared.domain.analysis_input import normalize_analysis

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def preview() -> ImageInput:
    """A small JPEG preview."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="JPEG")
    return ImageInput(data=buffer.getvalue(), width=64, height=48)


@pytest.fixture(name="fake")
def fx_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    # Dummy credentials: the SDK signs with them, the fake never checks the signature.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture(name="provider")
async def fx_provider(fake: FakeAnthropic) -> AsyncIterator[ClaudeProvider]:
    provider = ClaudeProvider.bedrock(
        model=MODEL, region="eu-west-1", base_url=fake.url, timeout_seconds=2
    )
    yield provider
    await provider.aclose()


async def test_invoke_route_is_signed_and_parsed(
    provider: ClaudeProvider, fake: FakeAnthropic
) -> None:
    """The request goes to /model/{id}/invoke, SigV4-signed, and the answer is parsed alike."""
    result = await provider.analyze(preview())

    [request] = fake.requests
    assert f"/model/{quote(MODEL, safe=':')}/invoke" == request.path
    assert MODEL == request.model
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIAFAKE")
    assert "/eu-west-1/bedrock/aws4_request" in request.headers["authorization"]
    assert "anthropic_version" in request.body
    assert "model" not in request.body
    assert {"type": "tool", "name": "record_analysis"} == request.body["tool_choice"]
    assert normalize_analysis(SAMPLE_ANALYSIS) == result.analysis
    assert "bedrock" == result.provider


async def test_bedrock_throttling_is_transient(
    provider: ClaudeProvider, fake: FakeAnthropic
) -> None:
    """Bedrock's 429 ThrottlingException (its own body shape) is a transient failure."""
    fake.script(
        Reply(
            status=429,
            body={"message": "Too many requests, please wait before trying again."},
            headers={"x-amzn-errortype": "ThrottlingException"},
        )
    )

    with pytest.raises(ProviderUnavailableError) as caught:
        await provider.analyze(preview())

    assert "rate_limited" == caught.value.code


async def test_bedrock_access_denied_is_not_retryable(
    provider: ClaudeProvider, fake: FakeAnthropic
) -> None:
    """A 403 AccessDeniedException (no model access) moves on instead of retrying."""
    fake.script(Reply(status=403, body={"message": "You don't have access to the model."}))

    with pytest.raises(ProviderOutputError) as caught:
        await provider.analyze(preview())

    assert "auth_failed" == caught.value.code


async def test_bedrock_prose_answer_is_malformed(
    provider: ClaudeProvider, fake: FakeAnthropic
) -> None:
    """Without the forced tool call there is no analysis, whichever route it came through."""
    fake.script(text_reply("Here is a description instead."))

    with pytest.raises(ProviderOutputError) as caught:
        await provider.analyze(preview())

    assert "malformed_output" == caught.value.code
