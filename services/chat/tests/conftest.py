"""The chat service in-process on a real database and the AWS emulator, with a fake search.

Tokens come from a local identity provider (its JWKS served over HTTP), which the service
verifies exactly as it verifies Cognito's. The search service is a small real HTTP server that
answers ``POST /search`` from an in-memory index and takes the tenant from the verified token,
like the real one. Items are also written to PostgreSQL, where ``get_item`` reads them.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from litestar.testing import AsyncTestClient

from collections_chat.app import create_app
from collections_chat.keys import session_sk, user_pk
from collections_chat.settings import Settings
from collections_devtools.fakes.jwks import FakeIdentityProvider, serve_jwks
from collections_devtools.testing.analysed import Analysed, insert_analysed
from collections_devtools.testing.client import TestClient
from collections_devtools.testing.fixtures import AwsStack, DatabaseUnderTest

TABLE = "collections-chat"


@dataclass(frozen=True)
class User:
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class FakeSearch:
    """``POST /search`` over HTTP: word-overlap ranking of the token owner's items only."""

    idp: FakeIdentityProvider
    index: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None
    answer_with: dict[str, Any] | None = None
    """A body to answer 200 with instead of searching (a broken or unexpected reply)."""
    url: str = ""

    def add(self, user_id: str, card: dict[str, Any]) -> None:
        self.index.setdefault(user_id, []).append(card)

    def answer(self, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        authorization = headers.get("authorization", "")
        self.requests.append({"authorization": authorization, "headers": headers, "body": body})
        if self.fail_with is not None:
            return self.fail_with, {"title": "unavailable"}
        if self.answer_with is not None:
            return 200, self.answer_with
        try:
            claims = jwt.decode(
                authorization.removeprefix("Bearer "),
                self.idp.keys[0].private_key.public_key(),
                algorithms=["RS256"],
            )
        except jwt.PyJWTError:
            return 401, {"title": "Unauthorized"}
        terms = set(re.findall(r"\w+", str(body.get("query", "")).lower()))
        ranked = []
        for card in self.index.get(claims["sub"], []):
            words = set(re.findall(r"\w+", f"{card['summary']} {' '.join(card['tags'])}".lower()))
            if matched := len(terms & words):
                ranked.append({"item_id": card["id"], "score": matched / len(terms), "item": card})
        ranked.sort(key=lambda result: -result["score"])
        limit = int(body.get("limit", 20))
        return 200, {"results": ranked[:limit], "answer": None, "mode": "hybrid", "took_ms": 1.0}


def _serve_search(search: FakeSearch) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer = search.answer(headers, body)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            """Keep test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    search.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server


@pytest.fixture(name="idp", scope="session")
def fx_idp() -> Iterator[FakeIdentityProvider]:
    with serve_jwks(FakeIdentityProvider()) as provider:
        yield provider


@pytest.fixture(name="search")
def fx_search(idp: FakeIdentityProvider) -> Iterator[FakeSearch]:
    search = FakeSearch(idp)
    server = _serve_search(search)
    yield search
    server.shutdown()
    server.server_close()


def new_user(idp: FakeIdentityProvider) -> User:
    user_id = str(uuid.uuid4())
    return User(user_id=user_id, token=idp.token(user_id))


@pytest.fixture(name="alice")
def fx_alice(idp: FakeIdentityProvider) -> User:
    return new_user(idp)


@pytest.fixture(name="bob")
def fx_bob(idp: FakeIdentityProvider) -> User:
    return new_user(idp)


@pytest.fixture(name="make_settings")
def fx_make_settings(
    database: DatabaseUnderTest, aws: AwsStack, idp: FakeIdentityProvider, search: FakeSearch
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database.app_dsn,
            "aws_endpoint_url": aws.endpoint,
            "cognito_issuer": idp.issuer,
            "cognito_client_id": idp.client_id,
            "cognito_jwks_url": idp.jwks_url,
            "search_url": search.url,
            "table": TABLE,
            "log_format": "json",
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture(name="client")
async def fx_client(make_settings: Callable[..., Settings]) -> AsyncIterator[TestClient]:
    async with AsyncTestClient(app=create_app(make_settings())) as client:
        yield client


@dataclass
class Collection:
    """Adds items to PostgreSQL (as the owner role) and to the fake search index."""

    owner_dsn: str
    search: FakeSearch

    async def add(
        self,
        user: User,
        summary: str,
        *,
        tags: tuple[str, ...] = (),
        description: str = "",
        visible_text: str = "",
        filename: str = "photo.jpg",
        category: str = "other",
    ) -> str:
        analysed = Analysed(
            summary, description or summary, tags, category, visible_text, filename=filename
        )
        item_id = await insert_analysed(self.owner_dsn, user.user_id, analysed, None)
        card = {
            "id": str(item_id),
            "filename": filename,
            "status": "searchable",
            "category": category,
            "summary": summary,
            "tags": list(tags),
            "created_at": "2026-01-01T00:00:00Z",
            "taken_at": None,
            "thumbnail_url": None,
        }
        self.search.add(user.user_id, card)
        return str(item_id)


@pytest.fixture(name="collection")
def fx_collection(database: DatabaseUnderTest, search: FakeSearch) -> Collection:
    return Collection(database.owner_dsn, search)


def parse_sse(body: str) -> list[tuple[str, Any]]:
    """``(event, data)`` pairs of a text/event-stream body."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").removeprefix(" "))
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


@pytest.fixture(name="sse")
def fx_sse() -> Callable[[str], list[tuple[str, Any]]]:
    return parse_sse


@pytest.fixture(name="expire_session")
def fx_expire_session(aws: AwsStack) -> Callable[[User, str], Any]:
    """Move a session's expiry into the past, as if it had been idle past its TTL (the
    emulator, like DynamoDB for up to days, keeps the expired item)."""

    async def expire(user: User, session_id: str) -> None:
        async with aws.clients.client("dynamodb") as dynamodb:
            await dynamodb.update_item(
                TableName=TABLE,
                Key={"pk": {"S": user_pk(user.user_id)}, "sk": {"S": session_sk(session_id)}},
                UpdateExpression="SET expires_at = :past",
                ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
            )

    return expire
