"""The search service in-process on a real database and the AWS emulator, Claude faked over HTTP.

Tokens come from a local identity provider whose JWKS is served over HTTP; Claude is the real
``anthropic`` SDK pointed at :class:`collections_devtools.fakes.anthropic.FakeAnthropic`. Items are
written as the owner role with an analysis and a vector from the offline embedding model, so
keyword and vector search both run for real.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from collections_devtools.fakes.anthropic import FakeAnthropic
from collections_devtools.fakes.jwks import FakeIdentityProvider, serve_jwks
from collections_devtools.testing.analysed import Analysed, Embedded, insert_analysed
from collections_devtools.testing.fixtures import AwsStack, DatabaseUnderTest
from collections_embeddings.base import EmbeddingProvider
from collections_embeddings.factory import EmbeddingSettings, build_provider
from collections_search.agentic import Clock
from collections_search.app import create_app
from collections_search.settings import Settings

LOCAL_EMBEDDINGS = EmbeddingSettings(provider="local", local_threads=1)
Client = AsyncTestClient  # type: ignore[type-arg]


@dataclass(frozen=True)
class User:
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(name="idp", scope="session")
def fx_idp() -> Iterator[FakeIdentityProvider]:
    with serve_jwks(FakeIdentityProvider()) as provider:
        yield provider


@pytest.fixture(name="embedder", scope="session")
def fx_embedder() -> EmbeddingProvider:
    return build_provider(LOCAL_EMBEDDINGS)


@pytest.fixture(name="anthropic_api")
def fx_anthropic_api() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture(name="alice")
def fx_alice(idp: FakeIdentityProvider) -> User:
    user_id = str(uuid.uuid4())
    return User(user_id, idp.token(user_id))


@pytest.fixture(name="bob")
def fx_bob(idp: FakeIdentityProvider) -> User:
    user_id = str(uuid.uuid4())
    return User(user_id, idp.token(user_id))


SearchApp = Callable[..., AbstractAsyncContextManager[Client]]


@pytest.fixture(name="search_app")
def fx_search_app(
    database: DatabaseUnderTest, aws: AwsStack, idp: FakeIdentityProvider
) -> SearchApp:
    """``async with search_app(clock=..., **settings) as client``: the app on test settings."""

    @asynccontextmanager
    async def start(clock: Clock | None = None, **overrides: Any) -> AsyncIterator[Client]:
        values: dict[str, Any] = {
            "database_url": database.app_dsn,
            "aws_endpoint_url": aws.endpoint,
            "cognito_issuer": idp.issuer,
            "cognito_client_id": idp.client_id,
            "cognito_jwks_url": idp.jwks_url,
            "log_format": "json",
        }
        values.update(overrides)
        app = create_app(Settings(**values), LOCAL_EMBEDDINGS, clock=clock)
        async with AsyncTestClient(app=app) as client:
            yield client

    return start


@pytest.fixture(name="claude_app")
def fx_claude_app(search_app: SearchApp, anthropic_api: FakeAnthropic) -> SearchApp:
    """Like ``search_app``, with Claude configured against the fake (no SDK retries)."""

    def start(clock: Clock | None = None, **overrides: Any) -> AbstractAsyncContextManager[Client]:
        values: dict[str, Any] = {
            "anthropic_api_key": "test-key",
            "anthropic_base_url": anthropic_api.url,
            "llm_max_retries": 0,
        }
        values.update(overrides)
        return search_app(clock=clock, **values)

    return start


@dataclass
class Collection:
    """Adds analysed, embedded items to PostgreSQL as the owner role."""

    owner_dsn: str
    embedder: EmbeddingProvider

    async def add(
        self,
        user: User,
        summary: str,
        *,
        tags: tuple[str, ...] = (),
        category: str = "other",
        visible_text: str = "",
        description: str = "",
        taken_at: datetime | None = None,
        provider: str = "local",
    ) -> str:
        document = f"{summary} {' '.join(tags)} {visible_text}"
        [vector] = await self.embedder.embed_documents([document])
        analysed = Analysed(
            summary, description or summary, tags, category, visible_text, taken_at, provider
        )
        embedded = Embedded(self.embedder.model, vector, document)
        item_id = await insert_analysed(self.owner_dsn, user.user_id, analysed, embedded)
        return str(item_id)


@pytest.fixture(name="collection")
def fx_collection(database: DatabaseUnderTest, embedder: EmbeddingProvider) -> Collection:
    return Collection(database.owner_dsn, embedder)
