"""Rate limits and quotas hold across two gateway processes on the local stack, and restarts.

Before the limiter moved to PostgreSQL each gateway process counted on its own: behind a load
balancer with two tasks a user got twice the limit, and a restart forgot the day's quotas.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from collections_devtools.local.readiness import wait_for_http
from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import ApiUser, sign_up
from collections_devtools.testing.fixtures import free_port
from collections_devtools.testing.outages import restart_service
from collections_devtools.testing.stack import running_stack

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

PER_MINUTE = 100
DAILY_UPLOADS = 3


@dataclass
class Gateways:
    stack: LocalStack
    urls: tuple[str, str]


@pytest.fixture(scope="module", name="gateways")
async def fx_gateways(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateways]:
    """The stack's gateway plus a second gateway process on the same database and emulator."""
    home: Path = tmp_path_factory.mktemp("limits") / "state"
    async with running_stack(home, GATEWAY_DAILY_UPLOAD_QUOTA=str(DAILY_UPLOADS)) as stack:
        port = free_port()
        env = {**stack.service_env("gateway"), "GATEWAY_PORT": str(port)}
        second = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "collections_gateway",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            await wait_for_http(
                f"{url}/health", "the second gateway", 120, ready=lambda s: s == 200
            )
            yield Gateways(stack, (stack.url("gateway"), url))
        finally:
            second.terminate()
            await second.wait()


async def _user(gateways: Gateways) -> ApiUser:
    async with httpx.AsyncClient(base_url=gateways.urls[0], timeout=30) as api:
        return await sign_up(api, f"limits-{uuid.uuid4().hex[:10]}@example.com")


async def _fresh_minute(margin: float = 15) -> None:
    """Start a burst early in a minute window, so it is counted in one window only."""
    left = 60 - time.time() % 60
    if left < margin:
        await asyncio.sleep(left + 0.2)


async def test_two_gateways_admit_one_limit_in_total(gateways: Gateways) -> None:
    """130 requests alternating between the two gateways: 100 answered, 30 are 429 + Retry-After."""
    user = await _user(gateways)
    await _fresh_minute()
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in gateways.urls]
    try:
        gate = asyncio.Semaphore(16)

        async def one(n: int) -> httpx.Response:
            async with gate:
                return await clients[n % 2].get("/items?limit=1", headers=user.headers)

        responses = await asyncio.gather(*(one(n) for n in range(PER_MINUTE + 30)))
    finally:
        for client in clients:
            await client.aclose()
    codes = [response.status_code for response in responses]
    assert PER_MINUTE == codes.count(200)
    assert 30 == codes.count(429)
    refused = [response for response in responses if response.status_code == 429]
    assert all(1 <= int(r.headers["retry-after"]) <= 60 for r in refused)
    assert {"rate_limited"} == {r.json()["code"] for r in refused}
    # Both processes answered some of the 200s: the limit was shared, not one gateway's.
    answered_by = {str(r.url).rsplit("/items", 1)[0] for r in responses if r.status_code == 200}
    assert set(gateways.urls) == answered_by


async def test_the_daily_quota_survives_a_gateway_restart(gateways: Gateways) -> None:
    """Two upload URLs, a restart, a third from the other gateway: the fourth is refused."""
    user = await _user(gateways)
    request = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 1000}

    async def presign(url: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=url, timeout=30) as api:
            return await api.post("/items/uploads", json=request, headers=user.headers)

    first, second = gateways.urls
    assert [201, 201] == [(await presign(first)).status_code for _ in range(2)]
    await restart_service(gateways.stack, "gateway")
    assert 201 == (await presign(second)).status_code
    refused = await presign(first)
    assert 429 == refused.status_code
    assert "uploads_quota_exceeded" == refused.json()["code"]
    assert int(refused.headers["retry-after"]) >= 1
