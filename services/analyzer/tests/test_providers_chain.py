"""The provider chain: retries, Retry-After, fallback, the final verdict, and its settings."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import structlog
from PIL import Image

from collections_analyzer.providers.base import (
    ImageInput,
    ProviderOutputError,
    ProviderUnavailableError,
)
from collections_analyzer.providers.chain import ProviderChain, ProviderSettings, build_chain
from collections_devtools.fakes.anthropic import (
    FakeAnthropic,
    error_reply,
    overloaded,
    rate_limited,
    server_error,
    text_reply,
)
from collections_shared.settings import ConfigError, parse_settings


def preview() -> ImageInput:
    """A small JPEG preview of a red square."""
    buffer = io.BytesIO()
    Image.new("RGB", (80, 80), (220, 20, 20)).save(buffer, format="JPEG")
    return ImageInput(data=buffer.getvalue(), width=80, height=80, filename="red_square.jpg")


def settings_for(fake: FakeAnthropic, *providers: str, **overrides: Any) -> ProviderSettings:
    """Fast retries against the fake; the local analyzer without the Node tagger."""
    values: dict[str, Any] = {
        "providers": list(providers),
        "anthropic_api_key": "test-key",
        "anthropic_base_url": fake.url,
        "bedrock_base_url": fake.url,
        "bedrock_region": "us-east-1",
        "timeout_seconds": 2.0,
        "retry_wait_initial": 0.01,
        "retry_wait_max": 0.05,
        "tagger_enabled": False,
    }
    return ProviderSettings(**(values | overrides))


@pytest.fixture(name="fake")
def fx_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture(name="chain")
async def fx_chain(fake: FakeAnthropic) -> AsyncIterator[ProviderChain]:
    chain = build_chain(settings_for(fake, "anthropic", "local"))
    yield chain
    await chain.aclose()


async def test_transient_failures_are_retried(chain: ProviderChain, fake: FakeAnthropic) -> None:
    """A 529 and a 500 are retried, and the third attempt's answer is used."""
    fake.script(overloaded(), server_error())

    result = await chain.analyze(preview())

    assert "anthropic" == result.provider
    assert 3 == len(fake.requests)


@pytest.mark.real_backoff
async def test_retry_after_is_waited_for(chain: ProviderChain, fake: FakeAnthropic) -> None:
    """The retry waits as long as the 429's Retry-After says, not the (tiny) backoff."""
    fake.script(rate_limited(retry_after="1"))

    started = time.monotonic()
    result = await chain.analyze(preview())

    assert "anthropic" == result.provider
    assert time.monotonic() - started >= 1.0


async def test_unreasonable_retry_after_skips_to_next_provider(
    chain: ProviderChain, fake: FakeAnthropic
) -> None:
    """A Retry-After beyond max_retry_after is not waited for: the next provider answers."""
    fake.script(rate_limited(retry_after="3600"))

    result = await chain.analyze(preview())

    assert "local" == result.provider
    assert 1 == len(fake.requests)


async def test_exhausted_retries_fall_back_to_local(
    chain: ProviderChain, fake: FakeAnthropic
) -> None:
    """After max_attempts transient failures the offline analyzer answers."""
    fake.script(overloaded(), overloaded(), overloaded())

    result = await chain.analyze(preview())

    assert ("local", "local-v2") == (result.provider, result.model)
    assert ["red"] == result.analysis.colors
    assert 3 == len(fake.requests)


async def test_malformed_output_falls_back_without_retry(
    chain: ProviderChain, fake: FakeAnthropic
) -> None:
    """Output that is no analysis is not retried on the same provider; the next one answers."""
    fake.script(text_reply("Sure! Here's a poem about your photo."))

    result = await chain.analyze(preview())

    assert "local" == result.provider
    assert 1 == len(fake.requests)


async def test_all_transient_is_unavailable(fake: FakeAnthropic) -> None:
    """When every provider only failed transiently, the caller is told to retry later."""
    chain = build_chain(settings_for(fake, "anthropic", "bedrock", max_attempts=2))
    fake.script(*[rate_limited(retry_after="0.05")] * 4)
    try:
        with pytest.raises(ProviderUnavailableError) as caught:
            await chain.analyze(preview())
    finally:
        await chain.aclose()

    assert ("rate_limited", 0.05) == (caught.value.code, caught.value.retry_after)
    assert 4 == len(fake.requests)
    assert "anthropic: rate_limited; bedrock: rate_limited" in caught.value.message


async def test_any_transient_failure_keeps_it_retryable(fake: FakeAnthropic) -> None:
    """A throttled first provider and a misconfigured second one: worth retrying later."""
    chain = build_chain(settings_for(fake, "anthropic", "bedrock", max_attempts=1))
    fake.script(overloaded(), error_reply(403, "permission_error"))
    try:
        with pytest.raises(ProviderUnavailableError):
            await chain.analyze(preview())
    finally:
        await chain.aclose()


async def test_only_permanent_failures_are_an_output_error(fake: FakeAnthropic) -> None:
    """When no provider can ever succeed, the item fails with the last reason."""
    chain = build_chain(settings_for(fake, "anthropic", "bedrock"))
    fake.script(error_reply(401, "authentication_error"), text_reply("no"))
    try:
        with pytest.raises(ProviderOutputError) as caught:
            await chain.analyze(preview())
    finally:
        await chain.aclose()

    assert "malformed_output" == caught.value.code
    assert "anthropic: auth_failed; bedrock: malformed_output" in caught.value.message


async def test_unreadable_image_fails_locally(fake: FakeAnthropic) -> None:
    """Bytes that are no image are an output error from the local analyzer, not a crash."""
    chain = build_chain(settings_for(fake, "local"))
    try:
        with pytest.raises(ProviderOutputError) as caught:
            await chain.analyze(ImageInput(data=b"<html>no</html>", width=10, height=10))
    finally:
        await chain.aclose()

    assert "undecodable_image" == caught.value.code


def test_settings_from_environment() -> None:
    """ANALYZER_PROVIDERS is a comma-separated order; numbers and flags are read from strings."""
    env = {
        "ANALYZER_PROVIDERS": " Bedrock, local ,bedrock",
        "ANALYZER_MAX_ATTEMPTS": "5",
        "ANALYZER_TIMEOUT_SECONDS": "12.5",
        "ANALYZER_TAGGER_ENABLED": "false",
        "ANTHROPIC_API_KEY": "sk-test",
    }

    settings = parse_settings(ProviderSettings, env, prefix="ANALYZER_")

    assert ["bedrock", "local"] == settings.order
    assert (5, 12.5, False) == (
        settings.max_attempts,
        settings.timeout_seconds,
        settings.tagger_enabled,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ANTHROPIC_API_KEY": "sk-test"}, ["anthropic", "local"]),
        ({}, ["local"]),
    ],
)
def test_default_chain_depends_on_the_key(env: dict[str, str], expected: list[str]) -> None:
    """Without ANALYZER_PROVIDERS: anthropic then local when a key is set, else local only."""
    assert expected == parse_settings(ProviderSettings, env, prefix="ANALYZER_").order


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ANALYZER_PROVIDERS": "anthropic,gpt"}, "unknown provider 'gpt'"),
        ({"ANALYZER_PROVIDERS": "anthropic,local"}, "ANTHROPIC_API_KEY is required"),
        ({"ANALYZER_MAX_ATTEMPTS": "0"}, "ANALYZER_MAX_ATTEMPTS"),
    ],
)
def test_bad_settings_fail_fast(env: dict[str, str], message: str) -> None:
    """A chain that cannot work stops the process at start-up with the variable's name."""
    with pytest.raises(ConfigError, match=message):
        parse_settings(ProviderSettings, env, prefix="ANALYZER_")


async def test_build_chain_follows_the_order(fake: FakeAnthropic) -> None:
    """build_chain creates the named providers in order, without contacting anything."""
    chain = build_chain(settings_for(fake, "bedrock", "anthropic", "local"))
    await chain.aclose()

    assert ["bedrock", "anthropic", "local"] == [p.name for p in chain.providers]
    assert [] == fake.requests


def test_bedrock_without_any_region_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no region in the settings, the environment or an AWS profile, start-up stops."""
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")

    with pytest.raises(ConfigError, match="ANALYZER_BEDROCK_REGION"):
        build_chain(ProviderSettings(providers=["bedrock"]))


async def test_a_rejected_key_is_a_recorded_fallback_and_degrades(
    chain: ProviderChain, fake: FakeAnthropic
) -> None:
    """A 401 hands over to local; the result says so, and the provider is degraded once."""
    fake.script(error_reply(401, "authentication_error"), error_reply(401, "authentication_error"))

    with structlog.testing.capture_logs() as logs:
        first = await chain.analyze(preview())
        second = await chain.analyze(preview())

    assert ("local", "local") == (first.provider, second.provider)
    assert [("anthropic", "auth_failed")] == [(f.provider, f.code) for f in first.fallback]
    assert "HTTP 401 authentication_error" in first.fallback[0].message
    assert {"anthropic"} == set(chain.degradations.snapshot())
    errors = [entry for entry in logs if entry["log_level"] == "error"]
    assert [("component_degraded", "anthropic")] == [(e["event"], e["component"]) for e in errors]


async def test_a_missing_model_degrades_until_the_provider_answers(
    chain: ProviderChain, fake: FakeAnthropic
) -> None:
    """A 404 degrades the provider; its next success clears it and records no fallback."""
    fake.script(error_reply(404, "not_found_error"))
    degraded = await chain.analyze(preview())
    reason = chain.degradations.snapshot()["anthropic"]

    recovered = await chain.analyze(preview())

    assert "model_not_found" == degraded.fallback[0].code
    assert reason.startswith("model_not_found")
    assert ("anthropic", []) == (recovered.provider, recovered.fallback)
    assert {} == chain.degradations.snapshot()


async def test_transient_failures_before_a_fallback_are_recorded_but_do_not_degrade(
    chain: ProviderChain, fake: FakeAnthropic
) -> None:
    """An outage is part of the result's fallback, not a configuration problem."""
    fake.script(overloaded(), overloaded(), overloaded())

    result = await chain.analyze(preview())

    assert [("anthropic", "overloaded")] == [(f.provider, f.code) for f in result.fallback]
    assert {} == chain.degradations.snapshot()
