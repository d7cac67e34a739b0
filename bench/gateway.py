"""Authenticated ``GET /items`` on the real gateway: granian against uvicorn on 2 cores.

Starts the local stack (embedded PostgreSQL, the AWS emulator, the six services) in a temporary
directory, signs up a user and uploads 20 small JPEGs, and waits until each has a thumbnail, so
every ``GET /items?limit=20`` returns a full page with 20 presigned thumbnail URLs. Then the
stack's services are stopped (their queue polling would share the cores) and, for each server,
a gateway process of its own serves over TCP pinned to core 0, while wrk drives it from core 1
with 32 keep-alive connections and the bearer token; PostgreSQL is pinned to core 1 as well, as
if on another machine, so core 0 does the gateway's work only.

The baseline in the same run is ``GET /health`` of a bare service app (the shared middleware, no
dependency checks: the gateway's own ``/health`` pings PostgreSQL, S3, EventBridge and the JWKS)
on each server: what the server and framework cost before any work.

The rate limit is raised for the run (``GATEWAY_RATE_LIMIT_PER_MINUTE=100000000``): one user at
thousands of requests per second would otherwise get 429 after 100. The limit is still checked
on every request, in PostgreSQL (``collections_gateway.limits``); the same gateway with the
in-process limiter it had before (``bench/_memory_limiter.py``) runs in each round too, so the
difference is what sharing the limit across gateway tasks costs per request. JWT verification
is timed in-process on a real access token from the emulator's Cognito: ``TokenVerifier.verify``
with the JWKS cached, against PyJWT's ``decode`` alone.

Targets: ≥ 2,000 req/s with p99 ≤ 25 ms (issue "Gateway security"); for the shared limiter
(issue "Operations"), ``GET /items`` at ≥ 0.20 of the bare ``/health`` rate in the same run and
at most 0.1 ms more server CPU per request than with the in-process limiter. Each figure is the
best of ``ROUNDS`` alternating rounds, since other work may share the machine. Run
``python -m bench gateway``; ``BENCH_GATEWAY_SECONDS`` and ``BENCH_GATEWAY_ROUNDS`` change the
length.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import jwt

from bench._load import LoadResult, ensure_wrk, pinned, run_load
from collections_devtools.local.stack import SERVICES, LocalStack
from collections_devtools.testing.api import ApiUser, sign_up, upload
from collections_devtools.testing.fixtures import free_port
from collections_devtools.testing.images import jpeg
from collections_devtools.testing.stack import stack_config
from collections_gateway.settings import ENV_PREFIX, Settings
from collections_shared.auth import TokenVerifier
from collections_shared.server import SERVER_ENV, SERVERS
from collections_shared.settings import parse_settings

TARGET_RPS = 2000
TARGET_P99_MS = 25.0
TARGET_RATIO = 0.20
"""GET /items req/s over bare /health req/s, with the shared limiter."""
TARGET_LIMITER_CPU_MS = 0.1
"""Server CPU per request the shared limiter may add over the in-process one."""
KINDS = ("health", "items", "items_memory")
ITEMS = 20
CONNECTIONS = 32
SECONDS = int(os.environ.get("BENCH_GATEWAY_SECONDS", "15"))
ROUNDS = int(os.environ.get("BENCH_GATEWAY_ROUNDS", "3"))
WARM_UP_SECONDS = 3
SERVER_CORE, LOAD_CORE = 0, 1
RATE_LIMIT = {"GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000"}
JWT_CALLS = 3000


async def _seed(stack: LocalStack) -> ApiUser:
    """A user with ``ITEMS`` processed items: each listing shows ``ITEMS`` thumbnails."""
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=60) as api:
        user = await sign_up(api, f"bench-{uuid.uuid4().hex[:8]}@example.com")
        for index in range(ITEMS):
            response = await upload(api, user, jpeg(320, 240, seed=index), f"p{index}.jpg")
            assert response.status_code == 202, response.text
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            page = (await api.get(f"/items?limit={ITEMS}", headers=user.headers)).json()
            if sum(1 for item in page["items"] if item["thumbnail_url"]) == ITEMS:
                return user
            await asyncio.sleep(0.5)
    msg = f"the {ITEMS} uploads did not all get a thumbnail within 180 s"
    raise RuntimeError(msg)


async def _quiet(stack: LocalStack) -> None:
    """Stop the services (the benchmark starts its own gateways) and move PostgreSQL to core 1."""
    await asyncio.gather(*(stack.processes[name].stop() for name in SERVICES))
    postgres = stack.processes["postgres"].process
    if postgres is not None and (os.cpu_count() or 1) >= 2:
        for pid in (postgres.pid, *_children(postgres.pid)):
            os.sched_setaffinity(pid, {LOAD_CORE})


def _children(parent: int) -> list[int]:
    """Process ids whose parent is ``parent`` (PostgreSQL's backends and helpers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


async def _jwt_cost(stack: LocalStack, token: str) -> dict[str, float]:
    """µs per ``TokenVerifier.verify`` (JWKS cached) and per bare ``jwt.decode``, on core 0."""
    settings = parse_settings(Settings, env=stack.service_env("gateway"), prefix=ENV_PREFIX)
    config = settings.verifier_config()
    affinity = os.sched_getaffinity(0)
    async with httpx.AsyncClient(timeout=10) as http:
        verifier = TokenVerifier(config, http)
        await verifier.verify(token)  # fetches the JWKS once, as the gateway's first request does
        keys = (await http.get(config.jwks_url)).json()["keys"]
        kid = jwt.get_unverified_header(token)["kid"]
        key = jwt.PyJWK(next(entry for entry in keys if entry["kid"] == kid)).key
        os.sched_setaffinity(0, {SERVER_CORE})
        try:
            started = time.perf_counter()
            for _ in range(JWT_CALLS):
                await verifier.verify(token)
            verify_us = (time.perf_counter() - started) / JWT_CALLS * 1e6
            started = time.perf_counter()
            for _ in range(JWT_CALLS):
                jwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False})
            decode_us = (time.perf_counter() - started) / JWT_CALLS * 1e6
        finally:
            os.sched_setaffinity(0, affinity)
    return {"verify_us": round(verify_us, 1), "pyjwt_decode_us": round(decode_us, 1)}


LIMITER_CALLS = 20_000
LIMITER_CONCURRENCY = 32


async def _limiter_cost(stack: LocalStack, user_id: str) -> dict[str, float]:
    """µs of this process's CPU per ``check_rate``, shared (PostgreSQL) and in-process, on core 0.

    32 tasks call it back to back, as 32 connections' requests would; PostgreSQL stays on core 1.
    """
    from bench._memory_limiter import MemoryLimiter  # noqa: PLC0415
    from collections_gateway.limits import Limiter, open_limiter_pool  # noqa: PLC0415

    limits = {"per_minute": 100_000_000, "daily_uploads": 1, "daily_llm_calls": 1}
    pool = await open_limiter_pool(stack.app_database_url())
    affinity = os.sched_getaffinity(0)
    costs: dict[str, float] = {}
    try:
        os.sched_setaffinity(0, {SERVER_CORE})
        for name, limiter in (
            ("memory", MemoryLimiter(**limits)),
            ("shared", Limiter(pool, **limits)),
        ):

            async def caller(limiter: Any = limiter) -> None:
                for _ in range(LIMITER_CALLS // LIMITER_CONCURRENCY):
                    await limiter.check_rate(user_id)

            await asyncio.gather(*(caller() for _ in range(LIMITER_CONCURRENCY)))  # warm up
            started = time.process_time()
            await asyncio.gather(*(caller() for _ in range(LIMITER_CONCURRENCY)))
            costs[name] = (time.process_time() - started) / LIMITER_CALLS * 1e6
    finally:
        os.sched_setaffinity(0, affinity)
        await pool.close()
    return {
        "limiter_memory_us": round(costs["memory"], 1),
        "limiter_shared_us": round(costs["shared"], 1),
        "limiter_added_us": round(costs["shared"] - costs["memory"], 1),
    }


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            pinned(SERVER_CORE, argv), env=env, stdout=output, stderr=subprocess.STDOUT
        )


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"the server exited with {process.returncode}; see {log}"
            raise RuntimeError(msg)
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    msg = f"{url} did not answer within 60 s; see {log}"
    raise RuntimeError(msg)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class Rig:
    stack: LocalStack
    user: ApiUser
    wrk: str | None
    logs: Path


@dataclass(frozen=True)
class Target:
    """A server process to start and the request to load it with."""

    argv: list[str]
    env: dict[str, str]
    port: int
    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Run:
    load: LoadResult
    cpu_ms: float
    """The server process's CPU time (user + system, all threads) per request served."""

    @property
    def ceiling(self) -> float:
        """Requests per second if the server had its core to itself: 1000 / ``cpu_ms``."""
        return 1000 / self.cpu_ms if self.cpu_ms else float("inf")


Rounds = list[dict[str, dict[str, Run]]]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(rig: Rig, target: Target) -> Run:
    """Start the server, check one answer, warm up, then measure under load."""
    base = f"http://127.0.0.1:{target.port}"
    log = rig.logs / f"{'-'.join(target.argv[2:4])}-{target.env[SERVER_ENV]}.log"
    process = _start(target.argv, target.env, log)
    try:
        _wait_ready(f"{base}/health", process, log)
        check = httpx.get(f"{base}{target.path}", headers=target.headers, timeout=10)
        assert check.status_code == 200, check.text
        if target.path.startswith("/items"):
            page = check.json()["items"]
            assert sum(1 for item in page if item["thumbnail_url"]) == ITEMS, page
        load = partial(
            run_load,
            f"{base}{target.path}",
            connections=CONNECTIONS,
            headers=target.headers,
            core=LOAD_CORE,
            wrk=rig.wrk,
        )
        load(seconds=WARM_UP_SECONDS)
        cpu_before = _cpu_seconds(process.pid)
        result = load(seconds=SECONDS)
        cpu_ms = (_cpu_seconds(process.pid) - cpu_before) * 1000 / max(1, result.requests)
        return Run(load=result, cpu_ms=cpu_ms)
    finally:
        _stop(process)


def _round(rig: Rig) -> dict[str, dict[str, Run]]:
    """One measurement of each server: bare /health, then the gateway's GET /items."""
    results: dict[str, dict[str, Run]] = {}
    for server in SERVERS:
        port = free_port()
        baseline = Target(
            argv=[sys.executable, "-m", "bench.gateway", str(port)],
            env={**os.environ, SERVER_ENV: server, "PYTHONUNBUFFERED": "1"},
            port=port,
            path="/health",
            headers={},
        )
        port = free_port()
        gateway = Target(
            argv=[sys.executable, "-m", "collections_gateway"],
            env={
                **rig.stack.service_env("gateway"),
                **RATE_LIMIT,
                SERVER_ENV: server,
                "GATEWAY_PORT": str(port),
            },
            port=port,
            path=f"/items?limit={ITEMS}",
            headers=rig.user.headers,
        )
        port = free_port()
        memory = Target(
            argv=[sys.executable, "-m", "bench.gateway", "memory-limiter"],
            env={**gateway.env, "GATEWAY_PORT": str(port)},
            port=port,
            path=gateway.path,
            headers=gateway.headers,
        )
        results[server] = {
            "health": _measure(rig, baseline),
            "items": _measure(rig, gateway),
            "items_memory": _measure(rig, memory),
        }
        for name, run in results[server].items():
            print(
                f"  {server:8} {name:12} {run.load.requests_per_second:8.0f} req/s  "
                f"p50 {run.load.p50_ms:6.2f} ms  p99 {run.load.p99_ms:6.2f} ms  "
                f"cpu {run.cpu_ms:5.3f} ms/req  errors {run.load.errors}"
            )
    return results


def _best(rounds: Rounds, server: str, kind: str) -> Run:
    return max((one[server][kind] for one in rounds), key=lambda r: r.load.requests_per_second)


def _verdict(run: Run) -> str:
    load = run.load
    passed = load.errors == 0 and load.requests_per_second >= TARGET_RPS
    return "PASS" if passed and load.p99_ms <= TARGET_P99_MS else "MISS"


def _report(rounds: Rounds, jwt_cost: dict[str, float], load_average: str) -> dict[str, Any]:
    tool = _best(rounds, SERVERS[0], "items").load.tool
    print(f"\nload average before the run: {load_average}; load generator: {tool}")
    print(
        "| server | endpoint | req/s | p50 ms | p99 ms | server CPU ms/req | 1-core ceiling req/s "
        "| errors |\n|---|---|---|---|---|---|---|---|"
    )
    summary: dict[str, Any] = {"load_average": load_average, **jwt_cost}
    labels = {
        "health": "GET /health (bare app)",
        "items": "GET /items (auth, shared limiter)",
        "items_memory": "GET /items (auth, in-process limiter)",
    }
    for server in SERVERS:
        for kind, label in labels.items():
            best = _best(rounds, server, kind)
            print(
                f"| {server} | {label} | {best.load.requests_per_second:.0f} | "
                f"{best.load.p50_ms:.2f} | {best.load.p99_ms:.2f} | {best.cpu_ms:.3f} | "
                f"{best.ceiling:.0f} | {best.load.errors} |"
            )
            summary[f"{server}_{kind}"] = {**asdict(best.load), "cpu_ms": round(best.cpu_ms, 3)}
    for server in SERVERS:
        best = _best(rounds, server, "items")
        share = jwt_cost["verify_us"] / 1000 / best.cpu_ms * 100
        verdict = _verdict(best)
        print(
            f"{server}: GET /items {best.load.requests_per_second:.0f} req/s, "
            f"p99 {best.load.p99_ms:.1f} ms (target ≥ {TARGET_RPS} req/s, p99 ≤ "
            f"{TARGET_P99_MS:.0f} ms): {verdict}; JWT verification is {share:.0f}% of its CPU"
        )
        summary[f"{server}_verdict"] = verdict
    print(
        f"JWT: TokenVerifier.verify {jwt_cost['verify_us']} µs per request (JWKS cached), "
        f"PyJWT decode alone {jwt_cost['pyjwt_decode_us']} µs"
    )
    print(
        f"rate limit check, in-process CPU with {LIMITER_CONCURRENCY} concurrent callers: shared "
        f"{jwt_cost['limiter_shared_us']} µs, in-process {jwt_cost['limiter_memory_us']} µs "
        f"(+{jwt_cost['limiter_added_us']} µs; target ≤ {TARGET_LIMITER_CPU_MS * 1000:.0f} µs)"
    )
    summary.update(_limiter_report(rounds))
    return summary


def _limiter_report(rounds: Rounds) -> dict[str, Any]:
    """The shared limiter against the in-process one, and GET /items against bare /health."""
    summary: dict[str, Any] = {}
    for server in SERVERS:
        health, shared, memory = (_best(rounds, server, kind) for kind in KINDS)
        ratio = shared.load.requests_per_second / health.load.requests_per_second
        # CPU per request is compared round by round (same machine state), then the median kept.
        deltas = sorted(
            one[server]["items"].cpu_ms - one[server]["items_memory"].cpu_ms for one in rounds
        )
        added = deltas[len(deltas) // 2]
        verdict = "PASS" if ratio >= TARGET_RATIO and added <= TARGET_LIMITER_CPU_MS else "MISS"
        print(
            f"{server}: shared limiter {shared.load.requests_per_second:.0f} req/s vs in-process "
            f"{memory.load.requests_per_second:.0f} req/s; +{added:.3f} ms CPU per request "
            f"(median of {len(deltas)} rounds; target ≤ {TARGET_LIMITER_CPU_MS} ms); "
            f"GET /items / bare /health = {ratio:.2f} (target ≥ {TARGET_RATIO:.2f}): {verdict}"
        )
        summary[f"{server}_limiter"] = {
            "shared_rps": round(shared.load.requests_per_second),
            "memory_rps": round(memory.load.requests_per_second),
            "added_cpu_ms": round(added, 3),
            "items_over_health": round(ratio, 3),
            "verdict": verdict,
        }
    return summary


def run() -> dict[str, Any]:
    """Start a stack, seed it, measure each server, stop everything, print the table."""
    wrk = ensure_wrk()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])

    async def prepare(stack: LocalStack) -> tuple[ApiUser, dict[str, float]]:
        started = await stack.start()
        print(f"stack up in {started:.1f} s; seeding {ITEMS} items")
        user = await _seed(stack)
        await _quiet(stack)
        costs = await _jwt_cost(stack, user.token)
        costs.update(await _limiter_cost(stack, user.user_id))
        return user, costs

    with tempfile.TemporaryDirectory(prefix="collections-bench-") as folder:
        stack = LocalStack(stack_config(Path(folder) / "state", **RATE_LIMIT))
        loop = asyncio.new_event_loop()
        try:
            user, jwt_cost = loop.run_until_complete(prepare(stack))
            rig = Rig(stack=stack, user=user, wrk=wrk, logs=Path(folder))
            rounds: Rounds = []
            for number in range(ROUNDS):
                print(
                    f"round {number + 1}/{ROUNDS}: {SECONDS} s per run, {CONNECTIONS} connections"
                )
                rounds.append(_round(rig))
        finally:
            loop.run_until_complete(stack.stop())
            loop.close()
    return _report(rounds, jwt_cost, load)


def _serve_baseline(port: int) -> None:
    """The bare app of the baseline: the shared middleware and /health with no checks."""
    from collections_shared.http import create_service_app  # noqa: PLC0415
    from collections_shared.logging import configure_logging  # noqa: PLC0415
    from collections_shared.server import serve  # noqa: PLC0415

    configure_logging("baseline", "info", "json")
    app = create_service_app(service="baseline", route_handlers=[])
    serve(app, service="baseline", host="127.0.0.1", port=port)


def _serve_with_memory_limiter() -> None:
    """The gateway from its environment, with the in-process limiter put in after start-up."""
    from bench._memory_limiter import MemoryLimiter  # noqa: PLC0415
    from collections_gateway.app import create_app  # noqa: PLC0415
    from collections_shared.logging import configure_logging  # noqa: PLC0415
    from collections_shared.server import serve  # noqa: PLC0415
    from collections_shared.settings import load_settings  # noqa: PLC0415

    settings = load_settings(Settings, prefix=ENV_PREFIX)
    configure_logging("gateway", settings.log_level, settings.log_format)
    app = create_app(settings)

    def swap(started: Any) -> None:
        started.state.limiter = MemoryLimiter(
            per_minute=settings.rate_limit_per_minute,
            daily_uploads=settings.daily_upload_quota,
            daily_llm_calls=settings.daily_llm_quota,
        )

    app.on_startup.append(swap)  # runs after the lifespan has set the shared one
    serve(app, service="gateway", host=settings.host, port=settings.port)


if __name__ == "__main__":
    if sys.argv[1] == "memory-limiter":
        _serve_with_memory_limiter()
    else:
        _serve_baseline(int(sys.argv[1]))
