"""``serve()`` behaves the same on granian and uvicorn: lifespan once, /health, graceful stop.

Each test runs a small Litestar app in a child process, as a service runs in production, and
talks to it over TCP. The app records its lifespan events in a file, so the test can count them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from collections_devtools.testing.fixtures import free_port
from collections_shared.server import SERVER_ENV, STARTUP_FAILED_EXIT_CODE, server_from_env
from collections_shared.settings import CONFIG_ERROR_EXIT_CODE

pytestmark = pytest.mark.integration  # servers in child processes, over TCP

SERVERS = ["granian", "uvicorn"]
GRACE_SECONDS = 2

APP = """
import asyncio, gc, sys
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import get
from litestar.response import Stream

from collections_shared.http import create_service_app
from collections_shared.server import serve

events = Path(sys.argv[1])
port = int(sys.argv[2])
fail = sys.argv[3] == "fail"
grace = int(sys.argv[4])


def record(event: str) -> None:
    with events.open("a") as handle:
        handle.write(event + "\\n")


@asynccontextmanager
async def lifespan(app):
    record("startup")
    if fail:
        raise RuntimeError("the database is not there")
    yield
    record("shutdown")


@get("/slow")
async def slow() -> str:
    await asyncio.sleep(1.5)
    record("slow_done")
    return "done"


@get("/frozen")
async def frozen() -> int:
    return gc.get_freeze_count()


@get("/stream")
async def stream() -> Stream:
    async def ticks():
        try:
            while True:
                yield b"tick\\n"
                await asyncio.sleep(0.2)
        finally:
            record("stream_closed")

    return Stream(ticks())


routes = [slow, frozen, stream]
app = create_service_app(service="probe", route_handlers=routes, lifespan=[lifespan])
serve(app, service="probe", host="127.0.0.1", port=port, grace_seconds=grace)
"""


@dataclass
class Running:
    process: subprocess.Popen[str]
    url: str
    events: Path

    def recorded(self) -> list[str]:
        return self.events.read_text().split() if self.events.exists() else []

    def stop(self) -> tuple[int, str]:
        """SIGTERM, then the exit code and stderr.

        After a clean shutdown both servers raise the signal again with its default handler
        (uvicorn's behaviour), so the process ends killed by SIGTERM.
        """
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=30)
        return self.process.returncode, stderr


def _start(tmp_path: Path, server: str, port: int, *, fail: bool = False) -> Running:
    script = tmp_path / "app.py"
    script.write_text(APP)
    events = tmp_path / "events.txt"
    process = subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(events),
            str(port),
            "fail" if fail else "ok",
            str(GRACE_SECONDS),
        ],
        env={**os.environ, SERVER_ENV: server, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Running(process, f"http://127.0.0.1:{port}", events)


def _wait_healthy(running: Running, within: float = 30) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        assert running.process.poll() is None, running.process.communicate()[1]
        try:
            return httpx.get(f"{running.url}/health", timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture(name="serving", params=SERVERS)
def fx_serving(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    running = _start(tmp_path, request.param, free_port())
    try:
        _wait_healthy(running)
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.communicate()


def test_serves_health_and_runs_lifespan_once(serving: Running) -> None:
    """/health answers with the shared body; startup ran once, and shutdown once after SIGTERM."""
    response = httpx.get(f"{serving.url}/health", timeout=5)
    assert 200 == response.status_code
    body = {"status": "ok", "service": "probe", "checks": {}, "failed": [], "degraded": {}}
    assert body == response.json()
    assert response.headers["x-request-id"]
    assert "" == response.headers.get("server", "")  # no server name given away
    assert ["startup"] == serving.recorded()

    code, stderr = serving.stop()

    assert -signal.SIGTERM == code, stderr
    assert ["startup", "shutdown"] == serving.recorded()


def test_startup_heap_is_frozen_before_the_first_request(serving: Running) -> None:
    """What exists after startup is out of the collector's sight (short full collections)."""
    frozen = int(httpx.get(f"{serving.url}/frozen", timeout=5).text)

    assert frozen > 10_000  # modules, Litestar's app: a real heap, not a handful of objects


def test_request_in_flight_finishes_after_sigterm(serving: Running) -> None:
    """A request running when SIGTERM arrives still gets its answer; new ones are refused."""
    answers: list[httpx.Response] = []
    client = threading.Thread(
        target=lambda: answers.append(httpx.get(f"{serving.url}/slow", timeout=10))
    )
    client.start()
    time.sleep(0.5)

    code, stderr = serving.stop()
    client.join(timeout=10)

    assert -signal.SIGTERM == code, stderr
    assert ["done"] == [answer.text for answer in answers]
    assert ["startup", "slow_done", "shutdown"] == serving.recorded()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{serving.url}/health", timeout=2)


def test_endless_stream_is_cancelled_after_the_grace_period(serving: Running) -> None:
    """A stream that never ends (server-sent events) cannot hold the shutdown up for ever."""
    opened = threading.Event()

    def follow() -> None:
        with (
            contextlib.suppress(httpx.TransportError),  # the server cuts the stream short
            httpx.stream("GET", f"{serving.url}/stream", timeout=30) as response,
        ):
            opened.set()
            for _ in response.iter_bytes():
                pass

    client = threading.Thread(target=follow, daemon=True)
    client.start()
    assert opened.wait(timeout=10)
    started = time.monotonic()

    code, stderr = serving.stop()

    assert -signal.SIGTERM == code, stderr
    assert GRACE_SECONDS - 0.5 <= time.monotonic() - started < GRACE_SECONDS + 10
    # uvicorn starts the lifespan shutdown as soon as it has cancelled the stream, so the two
    # last events may come in either order.
    assert ["shutdown", "startup", "stream_closed"] == sorted(serving.recorded())


@pytest.mark.parametrize("server", SERVERS)
def test_busy_port_is_refused_with_a_clear_message(server: str, tmp_path: Path) -> None:
    """Another listener on the port: exit 2 naming the port, and the lifespan never starts."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        running = _start(tmp_path, server, port)
        _, stderr = running.process.communicate(timeout=30)

    assert CONFIG_ERROR_EXIT_CODE == running.process.returncode
    assert f"port {port} is already in use: probe cannot listen on 127.0.0.1:{port}" in stderr
    assert "PROBE_PORT" in stderr
    assert [] == running.recorded()


@pytest.mark.parametrize("server", SERVERS)
def test_failed_startup_exits_non_zero(server: str, tmp_path: Path) -> None:
    """A lifespan that raises stops the process with uvicorn's code 3 on both servers."""
    running = _start(tmp_path, server, free_port(), fail=True)
    _, stderr = running.process.communicate(timeout=30)

    assert STARTUP_FAILED_EXIT_CODE == running.process.returncode, stderr
    assert ["startup"] == running.recorded()


def test_server_is_chosen_by_environment() -> None:
    """Unset means uvicorn; names are case-insensitive; anything else exits 2 naming the choices."""
    assert "uvicorn" == server_from_env({})
    assert "granian" == server_from_env({SERVER_ENV: " Granian "})
    with pytest.raises(SystemExit) as exit_info:
        server_from_env({SERVER_ENV: "gunicorn"})
    assert CONFIG_ERROR_EXIT_CODE == exit_info.value.code
