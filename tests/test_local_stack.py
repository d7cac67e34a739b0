"""`make up`'s stack: starts healthy, refuses a second copy, and keeps state across a restart."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from collections_devtools.local.readiness import StackError
from collections_devtools.local.stack import SERVICES, LocalStack, StackConfig
from collections_devtools.testing.api import ApiUser, sign_up, upload
from collections_devtools.testing.images import jpeg
from collections_devtools.testing.stack import stack_config

pytestmark = [pytest.mark.slow, pytest.mark.stack]

PASSWORD = "Correct-Horse-9"


@pytest.fixture(name="home")
def fx_home(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture(name="running")
async def fx_running(home: Path) -> AsyncIterator[LocalStack]:
    stack = LocalStack(stack_config(home))
    try:
        await stack.start()
        yield stack
    finally:
        await stack.stop()


async def test_all_services_report_healthy(running: LocalStack) -> None:
    """Every service answers /health with 200 and lists its dependencies."""
    async with httpx.AsyncClient() as http:
        for service in SERVICES:
            response = await http.get(f"{running.url(service)}/health")
            assert 200 == response.status_code, (service, response.text)
            assert "ok" == response.json()["status"]


async def test_second_stack_on_the_same_state_refuses_to_start(running: LocalStack) -> None:
    """A second `make up` while one runs says so instead of fighting over ports and data."""
    second = LocalStack(StackConfig(home=running.config.home, echo_logs=False))
    with pytest.raises(StackError, match="already running"):
        await second.start()


async def test_port_in_use_is_named(home: Path) -> None:
    """If a needed port is taken, the error names the port and who needs it."""
    config = stack_config(home)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", config.port("search")))
        squatter.listen()
        stack = LocalStack(config)
        with pytest.raises(StackError, match=f"port {config.port('search')} .*search"):
            await stack.start()
        await stack.stop()


def test_the_database_and_emulator_ports_never_land_on_a_service_port(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A free port that is one of the six service ports (or the database's) is drawn again, so
    PostgreSQL or the emulator never takes the port a service is about to bind."""
    drawn = iter([21000, 21003, 21100, 21100, 21005, 21200])
    monkeypatch.setattr("collections_devtools.testing.stack.free_port", lambda: next(drawn))

    config = stack_config(home)

    assert (config.base_port, config.pg_port, config.aws_port) == (21000, 21100, 21200)


def test_an_unhealthy_service_is_reported_with_its_restarts_and_last_log_lines(
    home: Path,
) -> None:
    """The start-up failure names the service and carries the end of its log, because a test's
    stack folder is gone by the time anyone reads the failure."""
    stack = LocalStack(stack_config(home))
    for number in range(30):
        stack.console.line("embedder", f"log line {number}")

    message = stack._unhealthy(["embedder"])

    assert "not healthy after 180s: embedder" in message
    assert "embedder: 0 restarts" in message
    assert "log line 29" in message
    assert "log line 14\n" not in message
    stack.console.close()


async def _wait_searchable(api: httpx.AsyncClient, user: ApiUser, item_id: str) -> dict[str, Any]:
    for _ in range(240):
        item: dict[str, Any] = (await api.get(f"/items/{item_id}", headers=user.headers)).json()
        if item["status"] in ("searchable", "failed"):
            return item
        await asyncio.sleep(0.5)
    raise AssertionError(f"item {item_id} did not finish")


async def test_account_and_items_survive_a_restart(home: Path) -> None:
    """Sign up and upload, stop the stack, start it again: same account (same sub), same item."""
    config = stack_config(home)
    stack = LocalStack(config)
    try:
        first_start = await stack.start()
        async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=60) as api:
            user = await sign_up(api, "keep@example.com", PASSWORD)
            item_id = (await upload(api, user, jpeg(300, 200, seed=77))).json()["id"]
            before = await _wait_searchable(api, user, item_id)
    finally:
        await stack.stop()

    again = LocalStack(config)
    try:
        second_start = await again.start()
        async with httpx.AsyncClient(base_url=again.url("gateway"), timeout=60) as api:
            login = await api.post(
                "/auth/login", json={"email": "keep@example.com", "password": PASSWORD}
            )
            assert 200 == login.status_code, login.text
            token = login.json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            after = (await api.get(f"/items/{item_id}", headers=headers)).json()
            async with httpx.AsyncClient() as plain:
                thumbnail = await plain.get(after["thumbnail_url"])
            found = await api.post("/search", json={"query": "photo"}, headers=headers)
    finally:
        await again.stop()
    assert "searchable" == before["status"]
    assert (before["id"], "searchable", before["sha256"]) == (
        after["id"],
        after["status"],
        after["sha256"],
    )
    assert 200 == thumbnail.status_code
    assert 200 == found.status_code
    print(f"first start {first_start:.1f}s, second start {second_start:.1f}s")  # noqa: T201


async def test_killed_service_is_restarted(running: LocalStack) -> None:
    """A service that dies is started again by the stack, as ECS would."""
    process = running.processes["search"]
    process.kill()
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            await asyncio.sleep(0.2)
            try:
                if (
                    await http.get(f"{running.url('search')}/health")
                ).status_code == 200 and process.restarts:
                    break
            except httpx.HTTPError:
                continue
    assert 1 == process.restarts
