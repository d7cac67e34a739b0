"""``GET /items`` at 100k items for one tenant: sorted by date taken within an album.

Starts the local stack in a temporary directory, signs up a user, stops every service but the
gateway (their polling would share the cores), and writes 100,000 processed items for the user
(80% with an EXIF date over ten years, the rest dated by their upload over two years, each with
thumbnail and preview keys) and 100,000 for a second tenant, straight into PostgreSQL. Two
albums of the user's are filled through the API (``POST /albums/{id}/items``, 500 ids a call):
10,000 and 1,000 random items.

Each scenario gets ``REQUESTS`` requests from one client, the scenarios taking turns request by
request (so a busy machine slows them alike); the server-side time is the gateway's own
``duration_ms`` of each request (its request log, matched by request id), the round trip is the
client's; then each scenario alone for ``CPU_REQUESTS`` requests gives the gateway process's CPU
time per request, which other work on the machine hardly changes.

Scenarios: the library's first page by upload date (the baseline, the listing that existed
before albums), by date taken, each album's first page by date taken, a walk through the library
by date taken page by page (every page needs presigned URLs not cached yet), and the timeline of
the large album and of the library. ``EXPLAIN ANALYZE`` of the album query (its first page and
one from the middle) shows the plan the database chose and its time.

Target (issue "Curation"): album page by date taken, p50 ≤ 10 ms server-side. Run
``python -m bench items_scale``; ``BENCH_ITEMS`` and ``BENCH_ITEMS_REQUESTS`` change the size.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from collections_devtools.local.stack import SERVICES, LocalStack
from collections_devtools.testing.api import ApiUser, sign_up
from collections_devtools.testing.stack import gateway_client, running_stack

ITEMS = int(os.environ.get("BENCH_ITEMS", "100000"))
REQUESTS = int(os.environ.get("BENCH_ITEMS_REQUESTS", "300"))
ALBUMS = {"large": ITEMS // 10, "small": ITEMS // 100}
PAGE = 50
WARM_UP = 10
CPU_REQUESTS = 200
TARGET_P50_MS = 10.0
RATE_LIMIT = {"GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000"}

_SEED = """
INSERT INTO items (id, user_id, status, original_key, filename, mime_type, width, height,
                   sha256, derivative_keys, taken_at, created_at, updated_at, status_changed_at)
SELECT id, $1, 'searchable', $1 || '/images/' || id || '.jpg', 'photo-' || n || '.jpg',
       'image/jpeg', 640, 480, md5(id::text),
       jsonb_build_object('thumbnail', $1 || '/derived/' || id || '/thumbnail.webp',
                          'preview', $1 || '/derived/' || id || '/preview.jpg'),
       CASE WHEN n % 5 = 0 THEN NULL
            ELSE timestamptz '2015-01-01' + random() * interval '3650 days' END,
       created, created, created
  FROM (SELECT gen_random_uuid() AS id, n, now() - random() * interval '730 days' AS created
          FROM generate_series(1, $2) AS n) AS generated
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    walk: bool = False
    """Follow ``next_cursor`` (restarting at the end) instead of asking for the first page."""


async def _seed(stack: LocalStack, owner: str) -> None:
    connection = await asyncpg.connect(stack.owner_database_url())
    try:
        for user_id in (owner, f"other-tenant-{uuid.uuid4().hex[:8]}"):
            await connection.execute(_SEED, user_id, ITEMS)
        await connection.execute("ANALYZE items")
    finally:
        await connection.close()


async def _fill_albums(api: httpx.AsyncClient, user: ApiUser, stack: LocalStack) -> dict[str, str]:
    connection = await asyncpg.connect(stack.owner_database_url())
    try:
        ids = [str(row["id"]) for row in await connection.fetch(
            "SELECT id FROM items WHERE user_id = $1", user.user_id
        )]  # fmt: skip
    finally:
        await connection.close()
    albums: dict[str, str] = {}
    for name, size in ALBUMS.items():
        album = (await api.post("/albums", json={"name": name}, headers=user.headers)).json()
        members = random.sample(ids, size)
        for start in range(0, size, 500):
            batch = {"item_ids": members[start : start + 500]}
            response = await api.post(
                f"/albums/{album['id']}/items", json=batch, headers=user.headers
            )
            assert response.status_code == 200, response.text
        albums[name] = album["id"]
    connection = await asyncpg.connect(stack.owner_database_url())
    try:
        await connection.execute("ANALYZE album_items")
    finally:
        await connection.close()
    return albums


@dataclass
class Runner:
    """One scenario's requests so far (scenarios take turns, so load hits them alike)."""

    scenario: Scenario
    cursor: str | None = None
    request_ids: list[str] = field(default_factory=list)
    round_trips: list[float] = field(default_factory=list)

    async def step(self, api: httpx.AsyncClient, user: ApiUser, *, record: bool) -> None:
        path = self.scenario.path + (f"&cursor={self.cursor}" if self.cursor else "")
        request_id = f"bench-{self.scenario.name}-{uuid.uuid4().hex}"
        started = time.perf_counter()
        response = await api.get(path, headers={**user.headers, "x-request-id": request_id})
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.text
        if self.scenario.walk:
            self.cursor = response.json()["next_cursor"]
        if record:
            self.request_ids.append(request_id)
            self.round_trips.append(elapsed)


def _server_times(log: Path, request_ids: list[str]) -> list[float]:
    wanted = set(request_ids)
    found: dict[str, float] = {}
    for line in log.read_text().splitlines():
        start = line.find("{")
        if start < 0 or "http_request" not in line:
            continue
        try:
            record = json.loads(line[start:])
        except json.JSONDecodeError:
            continue
        if record.get("request_id") in wanted and record.get("event") == "http_request":
            found[record["request_id"]] = float(record["duration_ms"])
    return [found[request_id] for request_id in request_ids if request_id in found]


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[int(len(ordered) * 0.95) - 1], 2),
    }


def _plan_nodes(node: dict[str, Any]) -> list[str]:
    index = f" on {node['Index Name']}" if "Index Name" in node else ""
    return [f"{node['Node Type']}{index}"] + [
        name for child in node.get("Plans", []) for name in _plan_nodes(child)
    ]


async def _explain(stack: LocalStack, user_id: str, album_id: str) -> dict[str, Any]:
    """The album query as the gateway sends it (first page, and one from the middle), run by
    the app role in a tenant transaction."""
    from collections_gateway.listing import ListQuery, Position  # noqa: PLC0415
    from collections_gateway.repositories.listing import page_query  # noqa: PLC0415

    query = ListQuery(sort="taken", album_id=uuid.UUID(album_id))
    connection = await asyncpg.connect(stack.app_database_url())
    explained: dict[str, Any] = {}
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config('app.user_id', $1, true)", user_id)
            middle = await connection.fetchrow(
                """SELECT taken_key, item_id FROM album_items WHERE album_id = $1
                    ORDER BY taken_key DESC, item_id DESC OFFSET $2 LIMIT 1""",
                query.album_id,
                ALBUMS["large"] // 2,
            )
            assert middle is not None
            pages = {"first_page": None, "middle_page": Position(*middle)}
            for name, after in pages.items():
                sql, values = page_query(user_id, query, after=after, limit=PAGE + 1)
                explain = f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}"
                for _ in range(2):  # warm the cache
                    await connection.fetchval(explain, *values)
                plan = json.loads(await connection.fetchval(explain, *values))[0]
                explained[name] = {
                    "execution_ms": round(plan["Execution Time"], 3),
                    "plan": _plan_nodes(plan["Plan"]),
                }
    finally:
        await connection.close()
    return explained


def _scenarios(albums: dict[str, str]) -> list[Scenario]:
    page, large, small = f"/items?limit={PAGE}", albums["large"], albums["small"]
    return [
        Scenario("baseline_uploaded", page),
        Scenario("library_taken", f"{page}&sort=taken"),
        Scenario("album_taken", f"{page}&sort=taken&album_id={large}"),
        Scenario("small_album_taken", f"{page}&sort=taken&album_id={small}"),
        # Never wraps round (2,000 pages): every page needs presigned URLs not cached yet.
        Scenario("library_taken_walk", f"{page}&sort=taken", walk=True),
        Scenario("album_timeline", f"/items/timeline?album_id={large}"),
        Scenario("library_timeline", "/items/timeline"),
    ]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(
    api: httpx.AsyncClient, user: ApiUser, stack: LocalStack, scenarios: list[Scenario]
) -> dict[str, Any]:
    log = stack.config.home / "logs" / "gateway.log"
    gateway = stack.processes["gateway"].process
    assert gateway is not None
    runners = [Runner(scenario) for scenario in scenarios]
    for n in range(WARM_UP + REQUESTS):
        rotation = n % len(runners)  # each scenario also takes every position in a round
        for runner in runners[rotation:] + runners[:rotation]:
            await runner.step(api, user, record=n >= WARM_UP)
    await asyncio.sleep(0.5)  # the log line is written after the response
    results: dict[str, Any] = {}
    for runner in runners:
        server = _server_times(log, runner.request_ids)
        # CPU per request hardly depends on what else runs on the machine, unlike latency.
        before = _cpu_seconds(gateway.pid)
        for _ in range(CPU_REQUESTS):
            await runner.step(api, user, record=False)
        cpu_ms = (_cpu_seconds(gateway.pid) - before) * 1000 / CPU_REQUESTS
        results[runner.scenario.name] = {
            "server_ms": _percentiles(server),
            "round_trip_ms": _percentiles(runner.round_trips),
            "gateway_cpu_ms": round(cpu_ms, 2),
            "samples": len(server),
        }
    return results


async def _bench() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-items-") as tmp:
        async with running_stack(Path(tmp) / "state", **RATE_LIMIT) as stack:
            await asyncio.gather(
                *(stack.processes[name].stop() for name in SERVICES if name != "gateway")
            )
            async with gateway_client(stack) as api:
                user = await sign_up(api, f"bench-{uuid.uuid4().hex[:8]}@example.com")
                started = time.perf_counter()
                await _seed(stack, user.user_id)
                albums = await _fill_albums(api, user, stack)
                seconds = time.perf_counter() - started
                print(f"seeded {2 * ITEMS:,} items and albums {ALBUMS} in {seconds:.0f} s")
                results = await _measure(api, user, stack, _scenarios(albums))
                results["explain_album_taken"] = await _explain(
                    stack, user.user_id, albums["large"]
                )
    return results


def _print(results: dict[str, Any]) -> None:
    print(
        f"\n{'scenario':<22} {'server p50':>11} {'server p95':>11} {'rtt p50':>9} "
        f"{'rtt p95':>9} {'cpu/req':>8}"
    )
    for name, row in results.items():
        if "server_ms" not in row:
            continue
        server, rtt = row["server_ms"], row["round_trip_ms"]
        print(f"{name:<22} {server['p50']:>11.2f} {server['p95']:>11.2f} "
              f"{rtt['p50']:>9.2f} {rtt['p95']:>9.2f} {row['gateway_cpu_ms']:>8.2f}")  # fmt: skip
    for page, explain in results["explain_album_taken"].items():
        print(f"album query, {page.replace('_', ' ')}, in PostgreSQL: {explain['execution_ms']} ms;"
              f" plan: {' > '.join(explain['plan'])}")  # fmt: skip
    p50 = results["album_taken"]["server_ms"]["p50"]
    verdict = "met" if p50 <= TARGET_P50_MS else "MISSED"
    print(f"target album page by date taken p50 <= {TARGET_P50_MS} ms server-side: {verdict} "
          f"({p50} ms)")  # fmt: skip


def run() -> dict[str, Any]:
    results = asyncio.run(_bench())
    _print(results)
    return {
        "items_per_tenant": ITEMS,
        "album_sizes": ALBUMS,
        "load_average": round(os.getloadavg()[0], 2),
        **results,
    }
