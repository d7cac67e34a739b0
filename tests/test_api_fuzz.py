"""Schemathesis against the running gateway's OpenAPI document, with two kinds of users.

Every documented operation gets generated valid and invalid requests from attackers (users of
their own) while a victim owns items, an album (with a revoked link) and a chat session; the ids
of both, and the attackers' own album links, are mixed into the generated path parameters.
Every response must be documented (status, content type, headers, body schema), none may be a
5xx, and none may carry the victim's ids unless the request did.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.auths import AuthStorage
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import ApiUser, sign_up, upload
from collections_devtools.testing.images import jpeg

SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
"""More cases per operation, freshly random each run: ``FUZZ_SCALE=10`` for a deep local run."""
MAX_VALID = 25 * SCALE
MAX_INVALID = 15 * SCALE
ATTACKERS = 10 * SCALE
"""Each attacker has 100 requests a minute of its own: together enough that few cases are 429."""

NOT_FUZZED = {
    ("GET", "/events"): "an SSE stream never ends",
    ("POST", "/chat/stream"): "relays the chat service's status as a 200 stream (see report)",
    ("DELETE", "/me"): "would delete the fixture users; called explicitly below",
    ("POST", "/auth/logout"): "would revoke the fixture users' tokens; called explicitly below",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Invalid input may also be refused as too large or unsupported, or after the rate limit.
REJECTED = [400, 401, 403, 404, 406, 413, 415, 422, 428, 429]
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REJECTED}}}
)


@dataclass
class Cast:
    """The victim, whose data nobody else may see, and the attackers with what they own."""

    victim: ApiUser
    victim_items: list[str]
    victim_session: str
    victim_album: str
    revoked_token: str
    """A link the victim made and revoked: it must open nothing."""
    attackers: list[ApiUser]
    owners: dict[str, ApiUser] = field(default_factory=dict)
    """Each attacker's item, session and album ids, to their owner (so some cases succeed)."""
    tokens: list[str] = field(default_factory=list)
    """Live links of attackers' own albums (no login needed)."""

    @property
    def secrets(self) -> list[str]:
        return [
            *self.victim_items,
            self.victim_session,
            self.victim_album,
            self.victim.user_id,
            self.victim.email,
        ]


@dataclass
class Report:
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    """Per operation, how many cases got each status."""
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, operation: str, status: int) -> None:
        self.statuses.setdefault(operation, Counter())[status] += 1

    def summary(self) -> str:
        total: Counter[int] = sum(self.statuses.values(), Counter())
        lines = [
            f"{len(self.statuses)} operations, {total.total()} cases in {self.seconds:.0f} s: "
            + _histogram(total)
        ]
        lines += [f"  {name}: {_histogram(counts)}" for name, counts in self.statuses.items()]
        return "\n".join(lines)


def _histogram(counts: Counter[int]) -> str:
    return ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))


async def _chat_session(api: httpx.AsyncClient, user: ApiUser, message: str) -> str:
    response = await api.post("/chat", json={"message": message}, headers=user.headers)
    assert 200 == response.status_code, response.text
    session_id: str = response.json()["session_id"]
    return session_id


async def _item(api: httpx.AsyncClient, user: ApiUser, seed: int) -> str:
    response = await upload(api, user, jpeg(96, 64, seed=seed), filename=f"fuzz-{seed}.jpg")
    assert 202 == response.status_code, response.text
    item_id: str = response.json()["id"]
    return item_id


async def _album(api: httpx.AsyncClient, user: ApiUser, item_ids: list[str]) -> str:
    album = await api.post("/albums", json={"name": "fuzzed"}, headers=user.headers)
    assert 201 == album.status_code, album.text
    album_id: str = album.json()["id"]
    added = await api.post(
        f"/albums/{album_id}/items", json={"item_ids": item_ids}, headers=user.headers
    )
    assert 200 == added.status_code, added.text
    return album_id


async def _share(api: httpx.AsyncClient, user: ApiUser, album_id: str) -> str:
    response = await api.post(f"/albums/{album_id}/share", json={}, headers=user.headers)
    assert 201 == response.status_code, response.text
    token: str = response.json()["token"]
    return token


@pytest.fixture(name="api", scope="module")
async def fx_api(stack: LocalStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=60) as client:
        yield client


@pytest.fixture(name="cast", scope="module")
async def fx_cast(api: httpx.AsyncClient) -> Cast:
    run = uuid.uuid4().hex[:8]
    victim = await sign_up(api, f"fuzz-victim-{run}@example.com")
    attackers = [await sign_up(api, f"fuzz-{n}-{run}@example.com") for n in range(ATTACKERS)]
    victim_items = [await _item(api, victim, seed=700 + n) for n in range(3)]
    victim_album = await _album(api, victim, victim_items)
    await api.put(f"/items/{victim_items[0]}/favorite", headers=victim.headers)
    revoked = await _share(api, victim, victim_album)
    await api.delete(f"/albums/{victim_album}/share", headers=victim.headers)
    cast = Cast(
        victim=victim,
        victim_items=victim_items,
        victim_session=await _chat_session(api, victim, "which photos are red?"),
        victim_album=victim_album,
        revoked_token=revoked,
        attackers=attackers,
    )
    for n, attacker in enumerate(attackers[:2]):
        item_id = await _item(api, attacker, seed=800 + n)
        album_id = await _album(api, attacker, [item_id])
        cast.owners[item_id] = cast.owners[album_id] = attacker
        cast.owners[await _chat_session(api, attacker, "anything blue?")] = attacker
        cast.tokens.append(await _share(api, attacker, album_id))
    return cast


def _attackers(cast: Cast) -> AuthStorage[str]:
    """Schemathesis auth: each case as an attacker, the owner when the path names their id.

    Set through schemathesis (not as a header of the call) so that invalid-input cases which
    drop the token are sent without one.
    """
    rotation = itertools.cycle(cast.attackers)
    storage: AuthStorage[str] = AuthStorage()

    @storage.auth(refresh_interval=None)
    class Attacker:
        def get(self, case: Any, context: Any) -> str:
            for value in (case.path_parameters or {}).values():
                if str(value) in cast.owners:
                    return cast.owners[str(value)].token
            return next(rotation).token

        def set(self, case: Any, token: str, context: Any) -> None:
            case.headers["Authorization"] = f"Bearer {token}"

    return storage


def _id_strategy(operation: Any, cast: Cast, auth: AuthStorage[str]) -> st.SearchStrategy[Any]:
    """Generated cases, and cases whose path id is the victim's or an attacker's own."""
    names = {p.name for p in operation.path_parameters}
    known = {
        "item_id": [*cast.victim_items, *cast.owners],
        "session_id": [cast.victim_session, *cast.owners],
        "album_id": [cast.victim_album, *cast.owners],
        "token": [cast.revoked_token, *cast.tokens],
    }
    fixed = [
        operation.as_strategy(path_parameters={name: value}, auth_storage=auth)
        for name in names
        for value in known.get(name, [])
    ]
    return st.one_of(operation.as_strategy(auth_storage=auth), *fixed)


def _leaks(cast: Cast, response: Any) -> list[str]:
    """The victim's identifiers in a response that the request did not carry itself."""
    sent = f"{response.request.url} {response.request.body!r}"
    return [secret for secret in cast.secrets if secret in response.text and secret not in sent]


def _fuzz_operation(operation: Any, cast: Cast, report: Report, *, negative: bool) -> None:
    auth = _attackers(cast)
    strategy = (
        operation.as_strategy(
            generation_mode=schemathesis.GenerationMode.NEGATIVE, auth_storage=auth
        )
        if negative
        else _id_strategy(operation, cast, auth)
    )
    checks = CHECKS
    # Multipart carries only text and files: a null or a number negated into a form part arrives
    # as a string the server rightly accepts, so only JSON bodies must reject negated values.
    if negative and not any(body.media_type == "multipart/form-data" for body in operation.body):
        checks = [*CHECKS, negative_data_rejection]
    http = requests.Session()

    @settings(
        max_examples=MAX_INVALID if negative else MAX_VALID,
        deadline=None,
        derandomize=SCALE == 1,  # CI sends the same cases on every run
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call_and_validate(session=http, checks=checks, timeout=60)
        report.count(operation.label, response.status_code)
        assert [] == _leaks(cast, response), f"{operation.label} leaked the victim's data"

    try:
        run()
    except (FailureGroup, Exception) as error:  # noqa: BLE001 - collect every operation's failure
        kind = "invalid" if negative else "valid"
        report.failures.append(f"{operation.label} ({kind} input): {error}")


def _operations(schema: Any) -> Iterable[Any]:
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in NOT_FUZZED:
            yield operation


def _fuzz(base_url: str, cast: Cast) -> Report:
    schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json", config=CONFIG)
    report = Report()
    started = time.monotonic()
    for operation in _operations(schema):
        _fuzz_operation(operation, cast, report, negative=False)
        if operation.path_parameters or operation.query or operation.body:
            _fuzz_operation(operation, cast, report, negative=True)
    report.seconds = time.monotonic() - started
    return report


@pytest.mark.slow
@pytest.mark.stack
async def test_gateway_answers_as_documented_and_never_leaks(stack: LocalStack, cast: Cast) -> None:
    """Generated requests get documented answers, no 5xx, and never the victim's data."""
    # The stack's log pipes are drained by this event loop: keep it free while requests run.
    report = await asyncio.to_thread(_fuzz, stack.url("gateway"), cast)

    print(report.summary())  # noqa: T201 - the run's statistics, shown with -s
    assert [] == report.failures, "\n\n".join(report.failures)
    assert [] == [
        name for name, counts in report.statuses.items() if any(code >= 500 for code in counts)
    ]


@pytest.mark.slow
@pytest.mark.stack
async def test_victim_data_survives_the_attackers(api: httpx.AsyncClient, cast: Cast) -> None:
    """After the fuzz and explicit calls with the victim's ids, all of it is still there."""
    attacker = cast.attackers[-1]
    for item_id in cast.victim_items:
        for method, suffix in [("GET", ""), ("DELETE", ""), ("POST", "/analyze")]:
            response = await api.request(
                method, f"/items/{item_id}{suffix}", headers=attacker.headers
            )
            assert 404 == response.status_code, (method, suffix, response.text)
    session = f"/chat/sessions/{cast.victim_session}"
    assert 404 == (await api.delete(session, headers=attacker.headers)).status_code
    for action in ("delete", "unfavorite"):
        bulk = await api.post(
            "/items/bulk",
            json={"action": action, "item_ids": cast.victim_items},
            headers=attacker.headers,
        )
        assert {"failed"} == {result["status"] for result in bulk.json()["results"]}
    album = f"/albums/{cast.victim_album}"
    assert 404 == (await api.delete(album, headers=attacker.headers)).status_code
    assert 404 == (await api.get(f"/shared/{cast.revoked_token}")).status_code

    for item_id in cast.victim_items:
        mine = await api.get(f"/items/{item_id}", headers=cast.victim.headers)
        assert 200 == mine.status_code
        assert [cast.victim_album] == mine.json()["album_ids"]
    assert 200 == (await api.get(session, headers=cast.victim.headers)).status_code
    kept = await api.get(album, headers=cast.victim.headers)
    assert (3, None) == (kept.json()["item_count"], kept.json()["share"])
    starred = await api.get("/items?favorite=true", headers=cast.victim.headers)
    assert [cast.victim_items[0]] == [item["id"] for item in starred.json()["items"]]


@pytest.mark.slow
@pytest.mark.stack
async def test_delete_me_and_logout_touch_only_the_caller(
    stack: LocalStack, api: httpx.AsyncClient, cast: Cast
) -> None:
    """DELETE /me and POST /auth/logout answer as documented and spare the victim."""
    schema = await asyncio.to_thread(
        schemathesis.openapi.from_url, f"{stack.url('gateway')}/schema/openapi.json"
    )
    leaver = await sign_up(api, f"fuzz-leaver-{uuid.uuid4().hex[:8]}@example.com")
    await _item(api, leaver, seed=900)

    def call(method: str, path: str) -> Any:
        case = schema[path][method].Case()
        return case.call_and_validate(headers=leaver.headers, checks=CHECKS)

    deleted = await asyncio.to_thread(call, "DELETE", "/me")
    logged_out = await asyncio.to_thread(call, "POST", "/auth/logout")

    assert 1 == msgspec.json.decode(deleted.content)["items"]
    assert 204 == logged_out.status_code
    page = await api.get("/items", headers=cast.victim.headers)
    assert set(cast.victim_items) <= {item["id"] for item in page.json()["items"]}
