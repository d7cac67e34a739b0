"""Health checks: every dependency is pinged, and the report names the ones that failed.

A component that works but not as configured (a provider that rejects its key, so a fallback
answers instead) is *degraded*: the service stays healthy (HTTP 200, the container is not
restarted) while the report says which component and why (:class:`Degradations`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import msgspec

from collections_shared.logging import get_logger

HealthCheck = Callable[[], Awaitable[None]]

_CHECK_TIMEOUT_SECONDS = 3.0

log = get_logger(__name__)


class HealthReport(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    """``ok`` when every dependency answered, ``degraded`` when they did but a component runs
    on a fallback, otherwise ``unavailable``."""
    service: str
    checks: dict[str, str]
    """Each dependency's state: ``ok``, ``timeout`` or ``error`` (details go to the log only)."""
    failed: list[str] = msgspec.field(default_factory=list)
    degraded: dict[str, str] = msgspec.field(default_factory=dict)
    """Degraded components and why, e.g. ``{"anthropic": "auth_failed: HTTP 401 ..."}``."""

    @property
    def healthy(self) -> bool:
        return not self.failed


async def _run(name: str, check: HealthCheck) -> str:
    try:
        await asyncio.wait_for(check(), timeout=_CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        log.warning("health_check_timed_out", dependency=name)
        return "timeout"
    except Exception as error:  # noqa: BLE001 - a health check reports every failure, whatever it is
        log.warning(
            "health_check_failed", dependency=name, error=f"{type(error).__name__}: {error}"
        )
        return "error"
    return "ok"


class Degradations:
    """Components running degraded, with the reason; each new reason is logged once, as an
    error naming the component, and a recovery once as info."""

    def __init__(self) -> None:
        self._reasons: dict[str, str] = {}

    def degrade(self, component: str, reason: str) -> None:
        if self._reasons.get(component) != reason:
            log.error("component_degraded", component=component, reason=reason)
        self._reasons[component] = reason

    def recover(self, component: str) -> None:
        if self._reasons.pop(component, None) is not None:
            log.info("component_recovered", component=component)

    def snapshot(self) -> dict[str, str]:
        return dict(self._reasons)


async def check_health(
    service: str, checks: Mapping[str, HealthCheck], degraded: Mapping[str, str] | None = None
) -> HealthReport:
    """Run all checks concurrently, each bounded by a timeout."""
    names = list(checks)
    results = await asyncio.gather(*(_run(name, checks[name]) for name in names))
    states = dict(zip(names, results, strict=True))
    failed = [name for name, state in states.items() if state != "ok"]
    notes = dict(degraded or {})
    status = "unavailable" if failed else "degraded" if notes else "ok"
    return HealthReport(
        status=status, service=service, checks=states, failed=failed, degraded=notes
    )
