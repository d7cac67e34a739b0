"""Run a service's ASGI app: one process, graceful shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import errno
import socket
import sys

import uvicorn
from litestar import Litestar

from collections_shared.settings import CONFIG_ERROR_EXIT_CODE


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


def serve(app: Litestar, *, service: str, host: str, port: int) -> None:
    """Serve ``app`` until a termination signal, then let its lifespan drain and close."""
    ensure_port_free(host, port, service)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
        server_header=False,
        proxy_headers=False,
    )
    uvicorn.Server(config).run()
