"""The two scripts the containers run besides the services: the health check and compose's env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEALTHCHECK = ROOT / "deploy" / "docker" / "healthcheck.py"
STACK_ENV = ROOT / "deploy" / "compose" / "stack_env.py"


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def health_server() -> Iterator[tuple[ThreadingHTTPServer, type[_Health]]]:
    handler = type("Handler", (_Health,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def _check(port: int) -> int:
    env = {**os.environ, "COLLECTIONS_SERVICE": "search", "SEARCH_PORT": str(port)}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK)], env=env, capture_output=True, timeout=30, check=False
    ).returncode


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_healthcheck_exit_code_follows_the_health_endpoint(
    health_server: tuple[ThreadingHTTPServer, type[_Health]], status: int, exit_code: int
) -> None:
    """200 from /health is healthy (exit 0); 503 (a dependency down) is unhealthy (exit 1)."""
    server, handler = health_server
    handler.status = status
    assert exit_code == _check(server.server_address[1])


def test_healthcheck_fails_when_nothing_listens(
    health_server: tuple[ThreadingHTTPServer, type[_Health]],
) -> None:
    """A service that is not up yet is unhealthy, not an error of the check itself."""
    server, _ = health_server
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    assert 1 == _check(port)


def test_stack_env_exports_provision_outputs_and_execs(tmp_path: Path) -> None:
    """Pool, client and queue URLs become variables; ones already set are left alone."""
    outputs = {
        "user_pool_id": "us-east-1_abc",
        "app_client_id": "client123",
        "queue_urls": {
            "collections-ingest": "http://q/ingest",
            "collections-analyzer": "http://q/analyzer",
        },
        "dlq_urls": {},
    }
    stack_file = tmp_path / "stack.json"
    stack_file.write_text(json.dumps(outputs))
    names = ["COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "INGEST_QUEUE_URL", "ANALYZER_QUEUE_URL"]
    show = f"import json, os; print(json.dumps({{n: os.environ.get(n) for n in {names!r}}}))"
    env = {**os.environ, "STACK_FILE": str(stack_file), "ANALYZER_QUEUE_URL": "http://override"}
    result = subprocess.run(
        [sys.executable, str(STACK_ENV), sys.executable, "-c", show],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert {
        "COGNITO_USER_POOL_ID": "us-east-1_abc",
        "COGNITO_CLIENT_ID": "client123",
        "INGEST_QUEUE_URL": "http://q/ingest",
        "ANALYZER_QUEUE_URL": "http://override",
    } == json.loads(result.stdout)


def test_stack_env_refuses_to_start_without_provisioning(tmp_path: Path) -> None:
    """No stack.json means provisioning did not run: fail loudly instead of half-configured."""
    env = {**os.environ, "STACK_FILE": str(tmp_path / "missing.json")}
    result = subprocess.run(
        [sys.executable, str(STACK_ENV), "true"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert 0 != result.returncode
    assert "missing.json" in result.stderr
