"""Health checks: every dependency is pinged, and the report names the ones that failed."""

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
    """``ok`` when every dependency answered, otherwise ``unavailable``."""
    service: str
    checks: dict[str, str]
    """Each dependency's state: ``ok``, ``timeout`` or ``error`` (details go to the log only)."""
    failed: list[str] = msgspec.field(default_factory=list)

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


async def check_health(service: str, checks: Mapping[str, HealthCheck]) -> HealthReport:
    """Run all checks concurrently, each bounded by a timeout."""
    names = list(checks)
    results = await asyncio.gather(*(_run(name, checks[name]) for name in names))
    states = dict(zip(names, results, strict=True))
    failed = [name for name, state in states.items() if state != "ok"]
    return HealthReport(
        status="unavailable" if failed else "ok", service=service, checks=states, failed=failed
    )
