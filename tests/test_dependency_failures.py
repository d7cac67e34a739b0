"""Dependencies failing under the running stack: the vision provider, then PostgreSQL.

The analyzer's chain is ``anthropic,local`` with the Anthropic SDK pointed at a local fake of the
Messages API (a 1 s timeout, 3 tries per provider, short waits), so a provider that times out or
answers 5xx is retried, then the offline ``local`` analyzer takes over. With ``anthropic`` alone
the item ends ``failed`` at stage ``analyze`` once the queue's retries are spent. PostgreSQL is
then stopped for a while: every ``/health`` that needs it says 503 naming ``database``, uploads get
503 with ``Retry-After``, workers acknowledge nothing (messages stay queued, nothing reaches the
DLQ), and when it is back the same processes finish everything.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from collections_devtools.fakes.anthropic import (
    SAMPLE_ANALYSIS,
    FakeAnthropic,
    Reply,
    overloaded,
    server_error,
    slow,
    tool_use_reply,
)
from collections_devtools.local.stack import SERVICES, LocalStack
from collections_devtools.testing.api import ApiUser, upload
from collections_devtools.testing.images import jpeg
from collections_devtools.testing.outages import (
    postgres_down,
    queue_depths,
    restart_service,
    restartable_home,
)
from collections_devtools.testing.stack import gateway_client, running_stack
from collections_devtools.testing.terminal import wait_terminal, work_log, work_records

pytestmark = [pytest.mark.slow, pytest.mark.stack]

ATTEMPTS_PER_PROVIDER = 3
RECEIVES_BEFORE_DLQ = 5  # the queues' redrive policy (collections_devtools.provision)
OUTAGE_SECONDS = 10


@pytest.fixture(scope="module", name="fake")
def fx_fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture(scope="module", name="dependency_stack")
async def fx_dependency_stack(fake: FakeAnthropic) -> AsyncIterator[LocalStack]:
    """A stack whose analyzer asks the fake Anthropic API first, then the local analyzer."""
    with restartable_home("dependencies") as home:
        async with _running(home, fake) as running:
            yield running


def _running(home: Path, fake: FakeAnthropic) -> AbstractAsyncContextManager[LocalStack]:
    return running_stack(
        home,
        ANALYZER_PROVIDERS="anthropic,local",
        ANALYZER_ANTHROPIC_API_KEY="test",
        ANALYZER_ANTHROPIC_BASE_URL=fake.url,
        ANALYZER_TIMEOUT_SECONDS="1",
        ANALYZER_MAX_ATTEMPTS=str(ATTEMPTS_PER_PROVIDER),
        ANALYZER_RETRY_WAIT_INITIAL="0.1",
        ANALYZER_RETRY_WAIT_MAX="0.3",
        # Only the queues' own retries and DLQ in play here, not the reconciler's re-drives.
        INGEST_STUCK_AFTER_SECONDS="300",
        # Workers restarted here first let their long poll end: keep polls short.
        INGEST_WAIT_SECONDS="2",
        ANALYZER_WAIT_SECONDS="2",
        EMBEDDER_WAIT_SECONDS="2",
    )


@pytest.fixture(name="api")
async def fx_api(dependency_stack: LocalStack) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(dependency_stack, request_timeout=30) as client:
        yield client


@pytest.fixture(autouse=True)
def _healthy_fake(fake: FakeAnthropic) -> Iterator[None]:
    fake.failing = None
    yield
    fake.failing = None


async def _upload_ids(api: httpx.AsyncClient, user: ApiUser, seeds: range) -> list[str]:
    ids = []
    for seed in seeds:
        response = await upload(api, user, jpeg(320, 240, seed=seed))
        assert 202 == response.status_code, response.text
        ids.append(response.json()["id"])
    return ids


def _provider(item: dict[str, Any]) -> str:
    return str((item.get("analysis") or {}).get("provider", ""))


async def test_healthy_provider_answers_first(
    api: httpx.AsyncClient, user: ApiUser, fake: FakeAnthropic
) -> None:
    """With the fake answering, the analysis comes from ``anthropic`` on the first request."""
    sent = len(fake.requests)
    [item_id] = await _upload_ids(api, user, range(700, 701))
    item = (await wait_terminal(api, user, [item_id], within=60))[item_id]
    assert ("searchable", "anthropic") == (item["status"], _provider(item))
    assert SAMPLE_ANALYSIS["summary"] == item["analysis"]["analysis"]["summary"]
    assert 1 == len(fake.requests) - sent


@pytest.mark.parametrize(
    "failure",
    [
        slow(tool_use_reply(SAMPLE_ANALYSIS), 3.0),
        server_error(500),
        server_error(503),
        overloaded(),
    ],
    ids=["timeout", "http_500", "http_503", "http_529"],
)
async def test_failing_provider_is_retried_then_local_takes_over(
    api: httpx.AsyncClient, user: ApiUser, fake: FakeAnthropic, failure: Reply
) -> None:
    """A provider timing out or answering 5xx is tried 3 times per item, then ``local`` answers."""
    fake.failing = failure
    sent = len(fake.requests)
    ids = await _upload_ids(api, user, range(710 + failure.status, 712 + failure.status))
    items = await wait_terminal(api, user, ids, within=90)
    assert [("searchable", "local")] * 2 == [(i["status"], _provider(i)) for i in items.values()]
    assert ATTEMPTS_PER_PROVIDER * len(ids) == len(fake.requests) - sent


async def test_failing_sole_provider_fails_the_item_with_its_reason(
    dependency_stack: LocalStack, api: httpx.AsyncClient, user: ApiUser, fake: FakeAnthropic
) -> None:
    """With ``anthropic`` alone answering 500, the item ends failed at ``analyze``, code kept."""
    fake.failing = server_error(500)
    await restart_service(dependency_stack, "analyzer", ANALYZER_PROVIDERS="anthropic")
    try:
        sent = len(fake.requests)
        [item_id] = await _upload_ids(api, user, range(730, 731))
        item = (await wait_terminal(api, user, [item_id], within=120))[item_id]
    finally:
        await restart_service(dependency_stack, "analyzer", ANALYZER_PROVIDERS="anthropic,local")
    failure = item["failure"]
    assert ("failed", "analyze", "server_error") == (
        item["status"],
        failure["stage"],
        failure["code"],
    )
    assert "all providers failed" in failure["message"]
    # Each receive tried the provider 3 times and left the message for a later one; the last
    # receive the redrive policy allows failed the item, and the message went to the DLQ.
    runs = work_records(dependency_stack, "analyzer", item_id)
    assert {"retry"} == {run["outcome"] for run in runs}
    assert RECEIVES_BEFORE_DLQ == max(run["receive_count"] for run in runs)
    assert ATTEMPTS_PER_PROVIDER * len(runs) == len(fake.requests) - sent
    assert 1 == await _eventually_dead_lettered(dependency_stack, "collections-analyzer")


async def _eventually_dead_lettered(stack: LocalStack, queue: str, within: float = 30) -> int:
    for _ in range(int(within)):
        dead = (await queue_depths(stack, dead_letters=True))[queue]
        if dead:
            return dead
        await asyncio.sleep(1)
    return 0


async def test_a_slow_provider_delays_items_but_never_fails_them_as_stuck(
    dependency_stack: LocalStack, api: httpx.AsyncClient, user: ApiUser, fake: FakeAnthropic
) -> None:
    """A backlog longer than the stuck timeout is waited out: re-drives back off, nothing fails."""
    fake.failing = slow(tool_use_reply(SAMPLE_ANALYSIS), 0.9)  # one analysis at a time, ~1 s each
    await restart_service(dependency_stack, "analyzer", ANALYZER_CONCURRENCY="1")
    await restart_service(
        dependency_stack,
        "ingest",
        INGEST_STUCK_AFTER_SECONDS="2",
        INGEST_RECONCILE_INTERVAL_SECONDS="1",
    )
    try:
        ids = await _upload_ids(api, user, range(760, 772))  # the last waits ~12 s for its turn
        items = await wait_terminal(api, user, ids, within=120)
    finally:
        await restart_service(dependency_stack, "analyzer", ANALYZER_CONCURRENCY="4")
        await restart_service(
            dependency_stack,
            "ingest",
            INGEST_STUCK_AFTER_SECONDS="300",
            INGEST_RECONCILE_INTERVAL_SECONDS="30",
        )
    assert {"searchable"} == {item["status"] for item in items.values()}


async def _health(stack: LocalStack) -> dict[str, tuple[int, dict[str, Any]]]:
    async with httpx.AsyncClient(timeout=10) as http:
        responses = {
            service: await http.get(f"{stack.url(service)}/health") for service in SERVICES
        }
    return {service: (r.status_code, r.json()) for service, r in responses.items()}


def _log_time() -> str:
    """Now, written as the services' JSON logs write their timestamps (comparable as text)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _upload_until_accepted(
    api: httpx.AsyncClient, user: ApiUser, data: bytes, key: str
) -> tuple[str, list[int]]:
    """Retry one upload with the same Idempotency-Key, as a client should; (item id, statuses)."""
    statuses: list[int] = []
    for _ in range(120):
        response = await upload(api, user, data, **{"Idempotency-Key": key})
        statuses.append(response.status_code)
        if response.status_code == 202:
            return response.json()["id"], statuses
        assert 503 == response.status_code, response.text
        assert "dependency_unavailable" == response.json()["code"]
        await asyncio.sleep(min(1.0, float(response.headers["retry-after"])))
    raise AssertionError(f"never accepted: {statuses}")


async def test_postgres_outage_pauses_everything_and_the_same_processes_resume(
    dependency_stack: LocalStack,
    api: httpx.AsyncClient,
    user: ApiUser,
    fake: FakeAnthropic,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """PostgreSQL down: 503s naming ``database``, no message acknowledged; back up: all finish."""
    fake.failing = slow(tool_use_reply(SAMPLE_ANALYSIS), 0.8)  # keeps work in flight
    pids = {service: dependency_stack.processes[service].pid for service in SERVICES}
    dead_before = await queue_depths(dependency_stack, dead_letters=True)
    before = await _upload_ids(api, user, range(740, 746))
    async with postgres_down(dependency_stack):
        down = _log_time()
        await asyncio.sleep(1)
        health = await _health(dependency_stack)
        during = asyncio.create_task(
            _upload_until_accepted(api, user, jpeg(320, 240, seed=750), f"outage-{uuid.uuid4()}")
        )
        await asyncio.sleep(OUTAGE_SECONDS)
        queued = await queue_depths(dependency_stack)
        up = _log_time()
    back = time.monotonic()
    item_id, statuses = await during
    items = await wait_terminal(api, user, [*before, item_id], within=120)
    with capsys.disabled():
        print(  # noqa: T201 - the measured figures, for the CI log
            f"\nPostgreSQL down {OUTAGE_SECONDS} s: the retrying upload saw "
            f"{statuses.count(503)} x 503; {sum(queued.values())} messages held {queued}; "
            f"all {len(items)} searchable {time.monotonic() - back:.1f} s after it was back"
        )
    needing_database = {s: h for s, (_, h) in health.items() if "database" in h["checks"]}
    assert {"gateway", "ingest", "analyzer", "embedder", "search", "chat"} == set(needing_database)
    assert {(503, "unavailable", "error")} == {
        (health[s][0], h["status"], h["checks"]["database"]) for s, h in needing_database.items()
    }
    assert all("database" in h["failed"] for h in needing_database.values())
    assert sum(queued.values()) > 0, queued  # messages stayed in their queues...
    records = [
        record
        for worker in ("ingest", "analyzer", "embedder")
        for record in work_log(dependency_stack, worker, ("work_processed", "work_crashed"))
    ]
    during_outage = Counter(
        record.get("outcome", "crashed") for record in records if down < record["timestamp"] < up
    )
    assert "done" not in during_outage, during_outage  # ...none was completed...
    mine = {*before, item_id}
    receives = [r.get("receive_count", 1) for r in records if r.get("item_id") in mine]
    assert max(receives) < RECEIVES_BEFORE_DLQ  # ...and the outage did not spend their retries
    assert 503 == statuses[0]
    assert {"searchable"} == {item["status"] for item in items.values()}
    assert dead_before == await queue_depths(dependency_stack, dead_letters=True)
    assert pids == {service: dependency_stack.processes[service].pid for service in SERVICES}
