"""The whole system under Docker Compose: built, provisioned, healthy, and serving a user.

Needs a Docker engine and the Compose v2 CLI; skipped (with the reason) where either is missing,
as on the development machines and CI, which have no engine. Building six images takes minutes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _compose_command() -> list[str] | None:
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]):
            probe = subprocess.run(
                [*command, "version"], capture_output=True, text=True, check=False
            )
            if probe.returncode == 0 and " v1." not in probe.stdout:
                return command
    return None


def _why_not() -> str | None:
    """The reason this machine cannot run the stack, or None if it can."""
    if _compose_command() is None:
        return "no Docker Compose v2 CLI (docker compose plugin or docker-compose) installed"
    try:
        engine = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"no Docker engine reachable ({error})"
    if engine.returncode != 0:
        return "no Docker engine reachable (`docker info` failed)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def compose_gateway() -> Iterator[str]:
    """``docker compose up --build --wait`` in a throwaway project; yields the gateway URL."""
    command = _compose_command()
    assert command is not None
    port = _free_port()
    project = [
        *command,
        "-p",
        f"collections-e2e-{uuid.uuid4().hex[:8]}",
        "-f",
        str(ROOT / "compose.yaml"),
    ]
    env = {**os.environ, "COLLECTIONS_HTTP_PORT": str(port)}
    try:
        subprocess.run(
            [*project, "up", "--build", "--detach", "--wait", "--wait-timeout", "900"],
            env=env,
            check=True,
            timeout=1800,
        )
        yield f"http://127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*project, "logs", "--no-color", "--tail", "50"], env=env, check=False, timeout=120
        )
        subprocess.run(
            [*project, "down", "--volumes", "--remove-orphans"], env=env, check=False, timeout=300
        )


pytestmark = [
    pytest.mark.slow,
    pytest.mark.stack,
    pytest.mark.timeout(2400),
    pytest.mark.skipif(_why_not() is not None, reason=f"compose end-to-end: {_why_not()}"),
]


def test_gateway_is_healthy_behind_compose(compose_gateway: str) -> None:
    """Every dependency of the gateway answered: /health is 200."""
    assert 200 == httpx.get(f"{compose_gateway}/health", timeout=10).status_code


def test_a_user_signs_up_logs_in_and_lists_items(compose_gateway: str) -> None:
    """Cognito on moto, tokens verified by the gateway, the app role reading PostgreSQL."""
    credentials = {"email": f"e2e-{uuid.uuid4().hex[:8]}@example.com", "password": "Compose-e2e-1"}
    with httpx.Client(base_url=compose_gateway, timeout=30) as client:
        assert client.post("/auth/signup", json=credentials).is_success
        login = client.post("/auth/login", json=credentials)
        assert 200 == login.status_code
        token = login.json()["access_token"]
        items = client.get("/items", headers={"Authorization": f"Bearer {token}"})
        assert 200 == items.status_code
        assert [] == items.json()["items"]
        assert 401 == client.get("/items").status_code
