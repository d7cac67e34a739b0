"""``/metrics`` on every service: request counts by route template, gauges refreshed on scrape."""

from __future__ import annotations

import re

from litestar import get
from litestar.testing import AsyncTestClient

from collections_shared.http import create_service_app


@get("/things/{thing_id:int}")
async def thing(thing_id: int) -> dict[str, int]:
    return {"id": thing_id}


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the exposition text (0 when absent)."""
    for line in text.splitlines():
        sample = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if sample is None:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample[1]))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(sample[2])
    return 0.0


async def test_requests_are_counted_by_route_template_and_status() -> None:
    """Three GETs of two ids count in one series, the route template's, not one per path."""
    app = create_service_app(service="metrics-test", route_handlers=[thing])
    async with AsyncTestClient(app=app) as client:
        for thing_id in (1, 2, 2):
            assert 200 == (await client.get(f"/things/{thing_id}")).status_code
        scraped = await client.get("/metrics")
    assert 200 == scraped.status_code
    assert scraped.headers["content-type"].startswith("text/plain")
    labels = {"service": "metrics-test", "method": "GET", "route": "/things/{thing_id}"}
    assert 3 == _sample(scraped.text, "collections_http_requests_total", **labels, status="200")
    assert 3 == _sample(scraped.text, "collections_http_request_duration_seconds_count", **labels)
    assert "/things/1" not in scraped.text


async def test_gauges_are_refreshed_on_scrape_and_a_failing_refresh_keeps_the_scrape() -> None:
    """Each scrape runs the app's refreshers; one that raises is logged, the page still served."""
    calls: list[str] = []

    async def counting() -> None:
        calls.append("ok")

    async def broken() -> None:
        raise RuntimeError("database down")

    app = create_service_app(service="metrics-refresh", route_handlers=[])
    app.state.metrics_refreshers = [broken, counting]
    async with AsyncTestClient(app=app) as client:
        first = await client.get("/metrics")
        second = await client.get("/metrics")
    assert (200, 200) == (first.status_code, second.status_code)
    assert ["ok", "ok"] == calls
