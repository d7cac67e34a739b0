"""``/health``: failed dependencies are a 503; a degraded component is a 200 that says why."""

from __future__ import annotations

import structlog
from litestar.testing import AsyncTestClient

from collections_shared.health import Degradations
from collections_shared.http import create_service_app


async def _ok() -> None:
    return None


async def _down() -> None:
    raise ConnectionError("refused")


async def test_degraded_component_is_reported_with_its_reason() -> None:
    """All dependencies up but a provider on a fallback: 200, ``degraded``, the reason shown."""
    app = create_service_app(service="analyzer", route_handlers=[], openapi=False)
    degradations = Degradations()
    degradations.degrade("anthropic", "auth_failed: HTTP 401 authentication_error")
    app.state.update(health_checks={"database": _ok}, degradations=degradations)

    async with AsyncTestClient(app=app) as client:
        response = await client.get("/health")

    assert 200 == response.status_code
    body = response.json()
    assert "degraded" == body["status"]
    assert {"anthropic": "auth_failed: HTTP 401 authentication_error"} == body["degraded"]


async def test_a_failed_dependency_still_wins_over_degraded() -> None:
    """A dependency that is down makes the service unavailable (503), degraded or not."""
    app = create_service_app(service="embedder", route_handlers=[], openapi=False)
    degradations = Degradations()
    degradations.degrade("voyage", "unauthorized")
    app.state.update(health_checks={"database": _down}, degradations=degradations)

    async with AsyncTestClient(app=app) as client:
        response = await client.get("/health")

    assert (503, "unavailable") == (response.status_code, response.json()["status"])
    assert {"voyage": "unauthorized"} == response.json()["degraded"]


def test_each_reason_is_logged_once_and_recovery_clears_it() -> None:
    """Repeating the same reason logs nothing new; a recovery is logged and empties the report."""
    degradations = Degradations()
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            degradations.degrade("voyage", "unauthorized: Voyage: invalid key")
        degradations.recover("voyage")
        degradations.recover("voyage")

    assert [("error", "component_degraded"), ("info", "component_recovered")] == [
        (entry["log_level"], entry["event"]) for entry in logs
    ]
    assert {} == degradations.snapshot()
