"""The chat service's ASGI app (internal; the gateway forwards the caller's token)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide

from collections_chat.agent.claude import ClaudeModel
from collections_chat.agent.clients import SearchClient, WebSearch
from collections_chat.agent.context import ChatModel
from collections_chat.agent.local import LocalResponder
from collections_chat.routes import ROUTES
from collections_chat.service import ChatService
from collections_chat.settings import ENV_PREFIX, Settings
from collections_shared.auth import TokenVerifier
from collections_shared.aws import table_check
from collections_shared.http import create_service_app
from collections_shared.http_auth import verified_principal
from collections_shared.llm import build_claude
from collections_shared.logging import get_logger
from collections_shared.runtime import open_runtime
from collections_shared.settings import load_settings

log = get_logger(__name__)


def _chat_service(state: State) -> ChatService:
    service: ChatService = state.chat_service
    return service


def build_model(settings: Settings, stack: AsyncExitStack) -> ChatModel:
    """Claude when a key (or a Bedrock model) is configured; otherwise the offline responder."""
    claude = build_claude(settings.claude())
    if claude is None:
        log.info("chat_model_selected", model="local")
        return LocalResponder()
    stack.push_async_callback(claude.aclose)
    log.info("chat_model_selected", model=claude.model, provider=claude.provider)
    return ClaudeModel(claude, max_tokens=settings.anthropic_max_tokens)


def build_web_search(settings: Settings, stack: AsyncExitStack) -> WebSearch | None:
    """Tavily when ``TAVILY_API_KEY`` is set; otherwise the agent has no web tool."""
    if not settings.tavily_api_key:
        return None
    web = WebSearch(
        api_key=settings.tavily_api_key,
        base_url=settings.tavily_base_url,
        include_domains=settings.web_search_include_domains,
        exclude_domains=settings.web_search_exclude_domains,
        max_results=settings.web_search_max_results,
        timeout=settings.web_search_timeout_seconds,
    )
    stack.push_async_callback(web.aclose)
    log.info("chat_web_search_enabled", provider="tavily")
    return web


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; settings default to the environment."""
    settings = settings or load_settings(Settings, prefix=ENV_PREFIX)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime, httpx.AsyncClient() as http:
            dynamodb = await runtime.client("dynamodb")
            # The search service is not a health dependency: chat still answers without it.
            runtime.health_checks["table"] = table_check(dynamodb, settings.table)
            service = ChatService(
                settings=settings,
                dynamodb=dynamodb,
                pool=runtime.pool,
                search=SearchClient(
                    http, settings.search_url, timeout=settings.search_timeout_seconds
                ),
                model=build_model(settings, runtime.stack),
                web=build_web_search(settings, runtime.stack),
            )
            app.state.update(
                runtime=runtime,
                verifier=TokenVerifier(settings.verifier_config(), http),
                chat_service=service,
                health_checks=runtime.health_checks,
            )
            yield

    return create_service_app(
        service="chat",
        route_handlers=ROUTES,
        lifespan=[lifespan],
        dependencies={
            "principal": Provide(verified_principal),
            "chat_service": Provide(_chat_service, sync_to_thread=False),
        },
        request_max_body_size=64 * 1024,
    )
