"""Understanding on the running stack: fallbacks that say so, the owner's corrections.

The analyzer's chain is ``anthropic,local`` with the SDK pointed at a local fake of the Messages
API. A rejected key hands every image to the local analyzer; the analysis records that and why,
and the analyzer's ``/health`` reports the provider as degraded until it answers again. An
owner's edit is found by keyword and by meaning seconds later and survives a re-analysis. The
same holds for Voyage in the embedder: a rejected key fails items with that reason and degrades
the embedder's ``/health``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from collections_devtools.fakes.anthropic import (
    SAMPLE_ANALYSIS,
    FakeAnthropic,
    error_reply,
)
from collections_devtools.fakes.voyage import FakeVoyage
from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import ApiUser, sign_up, upload
from collections_devtools.testing.images import jpeg
from collections_devtools.testing.outages import restart_service
from collections_devtools.testing.stack import gateway_client, running_stack
from collections_devtools.testing.terminal import wait_terminal

pytestmark = [pytest.mark.slow, pytest.mark.stack]


@pytest.fixture(scope="module", name="fake")
def fx_fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture(scope="module", name="voyage")
def fx_voyage() -> Iterator[FakeVoyage]:
    with FakeVoyage(api_key="the-right-key") as fake:
        yield fake


@pytest.fixture(scope="module", name="stack")
async def fx_stack(
    fake: FakeAnthropic, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LocalStack]:
    async with running_stack(
        tmp_path_factory.mktemp("understanding") / "state",
        ANALYZER_PROVIDERS="anthropic,local",
        ANALYZER_ANTHROPIC_API_KEY="a-key-the-fake-may-reject",
        ANALYZER_ANTHROPIC_BASE_URL=fake.url,
        ANALYZER_TAGGER_ENABLED="false",
        ANALYZER_MAX_ATTEMPTS="1",
        EMBEDDER_WAIT_SECONDS="2",
    ) as running:
        yield running


@pytest.fixture(name="api")
async def fx_api(stack: LocalStack) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(stack, request_timeout=30) as client:
        yield client


@pytest.fixture(name="user")
async def fx_user(api: httpx.AsyncClient) -> ApiUser:
    return await sign_up(api, f"understanding-{uuid.uuid4().hex[:10]}@example.com")


@pytest.fixture(autouse=True)
def _healthy_fake(fake: FakeAnthropic) -> Iterator[None]:
    fake.failing = None
    yield
    fake.failing = None


async def _health(stack: LocalStack, service: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"{stack.url(service)}/health")
    body: dict[str, Any] = response.json()
    return body


async def _one(api: httpx.AsyncClient, user: ApiUser, seed: int) -> dict[str, Any]:
    response = await upload(api, user, jpeg(320, 240, seed=seed))
    assert 202 == response.status_code, response.text
    item_id = response.json()["id"]
    return (await wait_terminal(api, user, [item_id], within=120))[item_id]


async def test_a_rejected_key_is_a_visible_fallback(
    stack: LocalStack, api: httpx.AsyncClient, user: ApiUser, fake: FakeAnthropic
) -> None:
    """401 from Anthropic: local answers, the analysis says why, /health says degraded."""
    fake.failing = error_reply(401, "authentication_error", "invalid x-api-key")

    item = await _one(api, user, seed=801)
    health = await _health(stack, "analyzer")

    analysis = item["analysis"]
    assert ("searchable", "local") == (item["status"], analysis["provider"])
    assert [("anthropic", "auth_failed")] == [
        (f["provider"], f["code"]) for f in analysis["fallback"]
    ]
    assert ("degraded", ["anthropic"]) == (health["status"], list(health["degraded"]))
    assert health["degraded"]["anthropic"].startswith("auth_failed: HTTP 401")

    fake.failing = None
    healed = await _one(api, user, seed=802)
    assert ("anthropic", []) == (healed["analysis"]["provider"], healed["analysis"]["fallback"])
    assert "ok" == (await _health(stack, "analyzer"))["status"]


async def _found(api: httpx.AsyncClient, user: ApiUser, query: str, mode: str) -> list[str]:
    response = await api.post(
        "/search", json={"query": query, "mode": mode, "limit": 10}, headers=user.headers
    )
    response.raise_for_status()
    return [result["item_id"] for result in response.json()["results"]]


async def _eventually_found(
    api: httpx.AsyncClient, user: ApiUser, item_id: str, query: str, mode: str
) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 20:
        if item_id in await _found(api, user, query, mode):
            return time.monotonic() - started
        await asyncio.sleep(0.25)
    msg = f"{mode} search for {query!r} did not find {item_id} within 20 s"
    raise AssertionError(msg)


async def test_an_edit_is_searchable_in_seconds_and_survives_reanalysis(
    api: httpx.AsyncClient, user: ApiUser
) -> None:
    """PATCH a headline and a place: keyword and vector search find them; a re-analysis keeps
    them while the other fields come from the model again."""
    item = await _one(api, user, seed=803)
    item_id = item["id"]
    edit = {"headline": "Quokka selfie on Rottnest", "places": ["Rottnest Island"]}

    response = await api.patch(f"/items/{item_id}/analysis", json=edit, headers=user.headers)

    assert 200 == response.status_code, response.text
    assert (2, "user") == (response.json()["version"], response.json()["provider"])
    await _eventually_found(api, user, item_id, "rottnest", "keyword")
    await _eventually_found(api, user, item_id, "quokka selfie on rottnest island", "vector")

    latest = await _reanalyzed(api, user, item_id, version=3)
    assert (3, "anthropic") == (latest["version"], latest["provider"])
    assert "Quokka selfie on Rottnest" == latest["analysis"]["headline"]
    assert ["Rottnest Island"] == latest["analysis"]["places"]
    assert SAMPLE_ANALYSIS["summary"] == latest["analysis"]["summary"]
    assert ["headline", "places"] == latest["user_fields"]

    replaced = await _reanalyzed(api, user, item_id, version=4, replace_user_fields="true")
    assert SAMPLE_ANALYSIS["headline"] == replaced["analysis"]["headline"]
    assert ([], []) == (replaced["analysis"]["places"], replaced["user_fields"])


async def _reanalyzed(
    api: httpx.AsyncClient, user: ApiUser, item_id: str, version: int, **params: str
) -> dict[str, Any]:
    """Ask for a re-analysis and return the version it made."""
    response = await api.post(f"/items/{item_id}/analyze", params=params, headers=user.headers)
    assert 202 == response.status_code, response.text
    deadline = time.monotonic() + 60
    versions: list[dict[str, Any]] = []
    while time.monotonic() < deadline and len(versions) < version:
        await asyncio.sleep(0.5)
        listing = await api.get(f"/items/{item_id}/analyses", headers=user.headers)
        versions = listing.json()["analyses"]
    assert version == versions[0]["version"], versions[0]
    return versions[0]


async def test_a_rejected_voyage_key_fails_items_with_the_reason_and_degrades(
    stack: LocalStack, api: httpx.AsyncClient, user: ApiUser, voyage: FakeVoyage
) -> None:
    """The embedder with a key Voyage refuses: items fail at ``embed`` saying so, and the
    embedder's /health names the model as degraded."""
    await restart_service(
        stack,
        "embedder",
        EMBEDDER_PROVIDER="voyage",
        EMBEDDER_VOYAGE_API_KEY="a-wrong-key",
        EMBEDDER_VOYAGE_BASE_URL=voyage.url,
    )
    try:
        item = await _one(api, user, seed=804)
        health = await _health(stack, "embedder")
    finally:
        await restart_service(
            stack, "embedder", EMBEDDER_PROVIDER="local", EMBEDDER_VOYAGE_API_KEY=""
        )

    assert ("failed", "embed", "unauthorized") == (
        item["status"],
        item["failure"]["stage"],
        item["failure"]["code"],
    )
    assert "degraded" == health["status"]
    assert ["voyage-3.5-lite"] == list(health["degraded"])
    assert health["degraded"]["voyage-3.5-lite"].startswith("unauthorized")
