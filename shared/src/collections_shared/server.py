"""Run a service's ASGI app: one process, graceful shutdown on SIGTERM/SIGINT.

Two servers can run it, chosen with ``COLLECTIONS_SERVER``:

- ``uvicorn`` (the default): on the gateway's authenticated ``GET /items`` (with its hot path
  fixed) it beat granian in each of 7 alternating runs on one core: more requests per second
  (median +5%), less CPU per request and a lower p99 (docs/performance.md). It is also the
  mature one.
- ``granian``: a Rust HTTP server, embedded in this process's event loop. Its own overhead per
  request is lower (a bare ``/health``), but handing each request and response between its I/O
  thread and the event loop costs more than that once the handler awaits a database.

Both behave the same to the outside: the port is checked before anything starts, the Litestar
lifespan runs exactly once (in this process: there is one worker per process, and a deployment
scales by tasks, not by forking), and a termination signal stops accepting connections, lets
requests in flight finish for up to :data:`GRACEFUL_SHUTDOWN_SECONDS`, cancels the rest (a
server-sent event stream never finishes by itself), then runs the lifespan's shutdown.

Once the lifespan has started, everything allocated so far (modules, botocore's service models,
pools, settings) is moved out of the garbage collector's sight with :func:`gc.freeze`. It lives
as long as the process anyway, and a full collection walking it took 75-115 ms on the gateway
under load, several times a minute: the p99 latency. Frozen, a full collection takes ~1.5 ms.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import importlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Final, Literal

import uvicorn
from granian.constants import Interfaces
from granian.errors import FatalError
from granian.server.embed import Server as EmbeddedGranian
from litestar import Litestar
from litestar.types import Message, Receive, Send

from collections_shared.logging import configure_logging
from collections_shared.settings import CONFIG_ERROR_EXIT_CODE, load_settings

ServerName = Literal["granian", "uvicorn"]
SERVER_ENV: Final = "COLLECTIONS_SERVER"
DEFAULT_SERVER: Final[ServerName] = "uvicorn"
SERVERS: Final[tuple[ServerName, ...]] = ("uvicorn", "granian")
GRACEFUL_SHUTDOWN_SECONDS: Final = 30
STARTUP_FAILED_EXIT_CODE: Final = 3
"""What uvicorn exits with when the lifespan startup fails; granian is made to do the same."""
_STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)
_EMPTY_SERVER_HEADER: Final = (b"server", b"")
_BACKLOG: Final = 2048  # uvicorn's default; granian's embedded server would otherwise take 128


def ensure_port_free(host: str, port: int, service: str) -> None:
    """Exit with a clear message if another process already listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                sys.stderr.write(
                    f"port {port} is already in use: {service} cannot listen on {host}:{port} "
                    f"(stop the other process or set {service.upper()}_PORT)\n"
                )
                raise SystemExit(CONFIG_ERROR_EXIT_CODE) from error
            raise


def server_from_env(environ: Mapping[str, str] | None = None) -> ServerName:
    """The server named by ``COLLECTIONS_SERVER`` (default uvicorn); exit 2 on an unknown name."""
    value = (os.environ if environ is None else environ).get(SERVER_ENV, "").strip().lower()
    if not value:
        return DEFAULT_SERVER
    for name in SERVERS:
        if value == name:
            return name
    sys.stderr.write(f"{SERVER_ENV}={value!r} is not one of: {', '.join(SERVERS)}\n")
    raise SystemExit(CONFIG_ERROR_EXIT_CODE)


def serve(
    app: Litestar,
    *,
    service: str,
    host: str,
    port: int,
    server: ServerName | None = None,
    grace_seconds: int = GRACEFUL_SHUTDOWN_SECONDS,
) -> None:
    """Serve ``app`` until a termination signal, then let its lifespan drain and close.

    ``server`` defaults to ``COLLECTIONS_SERVER``; ``grace_seconds`` bounds how long requests in
    flight may run on after the signal.
    """
    chosen = server or server_from_env()
    ensure_port_free(host, port, service)
    if chosen == "uvicorn":
        _serve_uvicorn(app, host=host, port=port, grace_seconds=grace_seconds)
    else:
        received = _run(_serve_granian(app, host=host, port=port, grace_seconds=grace_seconds))
        _exit_like_uvicorn(received)


def _serve_uvicorn(app: Litestar, *, host: str, port: int, grace_seconds: int) -> None:
    config = uvicorn.Config(
        _FreezeAfterStartup(app),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=grace_seconds,
        server_header=False,
        proxy_headers=False,
        backlog=_BACKLOG,
    )
    uvicorn.Server(config).run()


class _FreezeAfterStartup:
    """The app; when its lifespan startup succeeds, :func:`gc.freeze` what exists by then.

    The freeze happens before the server hears that startup is complete, so before the first
    request: the collection that precedes it (to leave no garbage frozen in) delays no one.
    """

    def __init__(self, app: Litestar) -> None:
        self._app = app

    # ``Any``: Litestar's ``Scope`` leaves out the lifespan scope, which passes through here.
    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self._app(scope, receive, send)
            return

        async def freeze_then_send(message: Any) -> None:  # a lifespan message: not in ``Message``
            if message["type"] == "lifespan.startup.complete":
                gc.collect()
                gc.freeze()
            await send(message)

        await self._app(scope, receive, freeze_then_send)


class _InFlight:
    """The app, plus the set of request tasks running in it, so shutdown can cancel stragglers.

    granian waits for every open connection before it finishes, with no timeout of its own in
    embedded mode; uvicorn cancels them after ``timeout_graceful_shutdown``. This does the same.

    It also blanks the ``server`` header: granian adds ``server: granian`` unless the response
    has one and cannot be told not to, and the API does not name its internals (uvicorn runs
    with ``server_header=False``).
    """

    def __init__(self, app: Litestar) -> None:
        self._app = _FreezeAfterStartup(app)
        self._tasks: set[asyncio.Task[Any]] = set()

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        task = asyncio.current_task() if scope["type"] != "lifespan" else None
        if task is None:
            await self._app(scope, receive, send)
            return
        self._tasks.add(task)

        async def send_anonymously(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), _EMPTY_SERVER_HEADER]
            await send(message)

        try:
            await self._app(scope, receive, send_anonymously)
        finally:
            self._tasks.discard(task)

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()


async def _serve_granian(app: Litestar, *, host: str, port: int, grace_seconds: int) -> list[int]:
    """Serve until a stop signal; returns the signals received, for :func:`_exit_like_uvicorn`."""
    in_flight = _InFlight(app)
    server = EmbeddedGranian(
        in_flight,
        address=host,
        port=port,
        interface=Interfaces.ASGI,  # ASGI with lifespan (``asginl`` would skip it)
        backlog=_BACKLOG,
        log_access=False,  # the app logs one line per request itself
        # Route granian's own records through the root logger (structlog's formatter).
        log_dictconfig={"loggers": {"_granian": {"handlers": [], "propagate": True}}},
    )
    logging.getLogger("_granian").addFilter(_drop_embedded_warning)
    stop_accepting: Callable[[], None] = server.stop  # granian's embedded API is untyped
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def stop(signum: int) -> None:
        received.append(signum)
        if len(received) == 1:
            stop_accepting()
            loop.call_later(grace_seconds, in_flight.cancel)
        else:
            in_flight.cancel()  # a second Ctrl-C means now

    for signum in _STOP_SIGNALS:
        loop.add_signal_handler(signum, stop, signum)
    try:
        await server.serve()
    except FatalError as error:
        # The worker ended on its own: the lifespan startup failed (granian logged why).
        raise SystemExit(STARTUP_FAILED_EXIT_CODE) from error
    finally:
        for signum in _STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    return received


def _drop_embedded_warning(record: logging.LogRecord) -> bool:
    # "Embedded server is experimental!" on every start says nothing an operator can act on;
    # the choice and its tests are in docs/performance.md and shared/tests/test_server.py.
    return "experimental" not in record.getMessage()


def _run(main: Coroutine[Any, Any, list[int]]) -> list[int]:
    """Run on uvloop when it is installed (uvicorn[standard] brings it), as uvicorn does."""
    runner: Callable[[Coroutine[Any, Any, list[int]]], list[int]]
    try:
        import uvloop  # noqa: PLC0415 - optional speed-up

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is installed wherever uvicorn[standard] is
        runner = asyncio.run
    return runner(main)


def _exit_like_uvicorn(received: list[int]) -> None:
    """Raise the stop signals again with their default handlers, as uvicorn (>= 0.29) does.

    The process then ends "killed by SIGTERM" after a clean shutdown whichever server ran it, so
    a supervisor sees the same exit status from both.
    """
    for signum in reversed(received):
        signal.raise_signal(signum)


def service_main(package: str) -> Callable[[], None]:
    """The entry point of the service package ``collections_<name>``: load its settings (exit 2
    if invalid), configure logging, then serve its app until SIGTERM.

    Every service package has ``settings.Settings`` and ``settings.ENV_PREFIX`` and
    ``app.create_app(settings)``; naming the package is all its ``__main__`` has to do.
    """

    def main() -> None:
        service = package.removeprefix("collections_")
        settings_module = importlib.import_module(f"{package}.settings")
        settings = load_settings(settings_module.Settings, prefix=settings_module.ENV_PREFIX)
        configure_logging(service, settings.log_level, settings.log_format)
        app = importlib.import_module(f"{package}.app").create_app(settings)
        serve(app, service=service, host=settings.host, port=settings.port)

    return main
