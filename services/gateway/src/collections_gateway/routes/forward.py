"""Search and chat: forwarded to the internal services with the caller's token.

Request bodies are validated here against the services' own contracts
(:mod:`collections_shared.domain.search`, :mod:`collections_shared.domain.chat`), so the
gateway's OpenAPI document describes them and nonsense never leaves; the services verify the
token again and answer, and their answer is relayed as is. Nothing is added that the services
would have to trust.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.response import Stream

from collections_gateway.albums import AlbumsService
from collections_gateway.limits import Limiter
from collections_gateway.upstream import Upstream, UpstreamResponse
from collections_shared.auth import Principal
from collections_shared.domain.chat import (
    SESSION_ID_PATTERN,
    ChatRequest,
    ChatResponse,
    SessionDetail,
    SessionList,
)
from collections_shared.domain.search import Filters, SearchRequest, SearchResponse
from collections_shared.errors import (
    NotFoundError,
    ServiceUnavailableError,
    UnauthorizedError,
    ValidationFailedError,
)
from collections_shared.openapi import PROBLEMS_OPT

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]
_MAX_BODY = 64 * 1024
SessionIdParameter = Annotated[str, Parameter(max_length=64, pattern=SESSION_ID_PATTERN)]


def _headers(request: Request[Any, Any, State]) -> dict[str, str]:
    headers = dict(request.headers)
    headers["x-request-id"] = str(request.scope.get("state", {}).get("request_id", ""))
    headers["content-type"] = "application/json"  # the body sent on is always re-encoded JSON
    return headers


def _relay(response: UpstreamResponse) -> Response[bytes]:
    return Response(
        response.body, status_code=response.status_code, media_type=response.content_type
    )


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _encoded(data: msgspec.Struct) -> bytes:
    """The validated body as JSON for the service; 422 if any text in it contains NUL."""
    # PostgreSQL text cannot hold U+0000, so no service can use such a string: refuse it here.
    if _has_nul(msgspec.to_builtins(data)):
        raise ValidationFailedError("text may not contain NUL characters", code="nul_character")
    return msgspec.json.encode(data)


async def _check_scope(albums: AlbumsService, user_id: str, filters: Filters | None) -> None:
    """An album scope must name one of the caller's albums: 404 otherwise, as anywhere."""
    if filters is not None and filters.album_id is not None:
        await albums.require(user_id, filters.album_id)


def _ok(model: type[Any], description: str) -> dict[int, ResponseSpec]:
    # The body is relayed as bytes; this tells OpenAPI what those bytes are.
    return {
        200: ResponseSpec(data_container=model, description=description, generate_examples=False)
    }


class _LlmUsage(msgspec.Struct):
    """The part of a search response the quota needs (every other field is ignored)."""

    llm_calls: int = 0


def _called_llm(response: UpstreamResponse) -> bool:
    """Whether the search service says it called the LLM (an unreadable 200 counts as yes)."""
    if response.status_code != 200:
        return False
    try:
        return msgspec.json.decode(response.body, type=_LlmUsage).llm_calls > 0
    except msgspec.DecodeError:
        return True


def _turn_called_llm(header: str | None) -> bool:
    """Whether chat says the turn reached an LLM (a missing or unreadable header counts as yes).

    Chat answers ``llm-calls`` on every turn it ran: ``0`` with the offline responder. A refused
    message (422) or session (404) never reaches a model and costs nothing.
    """
    try:
        return header is None or int(header) > 0
    except ValueError:
        return True


@post(
    "/search",
    status_code=200,
    tags=["search"],
    security=BEARER,
    summary="Keyword, vector, hybrid or agentic search",
    description="`answer: true` and `mode: agentic` need LLM quota left; one unit is counted "
    "only when the search actually called the LLM (`llm_calls` > 0 in the response).",
    request_max_body_size=_MAX_BODY,
    responses=_ok(SearchResponse, "The best matches, best first"),
    opt={PROBLEMS_OPT: (404,)},  # filters.album_id names no album of the caller's
)
async def search_route(
    request: Request[Any, Any, State],
    principal: Principal,
    search: Upstream,
    limiter: Limiter,
    albums: AlbumsService,
    data: SearchRequest,
) -> Response[bytes]:
    await _check_scope(albums, principal.user_id, data.filters)
    if data.uses_llm:
        await limiter.check(principal.user_id, "llm_calls")
    body = _encoded(data)
    response = await search.call("POST", "/search", _headers(request), body)
    if data.uses_llm and _called_llm(response):
        await limiter.record(principal.user_id, "llm_calls")
    return _relay(response)


@post(
    "/chat",
    status_code=200,
    tags=["chat"],
    security=BEARER,
    summary="Send a message to the collection agent",
    description="Needs LLM quota left; one unit per turn is counted only when the turn reached "
    "an LLM (the chat service says so; the offline responder and refused messages are free).",
    request_max_body_size=_MAX_BODY,
    responses=_ok(ChatResponse, "The agent's reply with the items it cites"),
    opt={PROBLEMS_OPT: (404,)},  # session_id or filters.album_id is not the caller's
)
async def chat_route(
    request: Request[Any, Any, State],
    principal: Principal,
    chat: Upstream,
    limiter: Limiter,
    albums: AlbumsService,
    data: ChatRequest,
) -> Response[bytes]:
    await _check_scope(albums, principal.user_id, data.filters)
    await limiter.check(principal.user_id, "llm_calls")
    response = await chat.call("POST", "/chat", _headers(request), _encoded(data))
    if response.status_code == 200 and _turn_called_llm(response.llm_calls):
        await limiter.record(principal.user_id, "llm_calls")
    return _relay(response)


@post(
    "/chat/stream",
    status_code=200,
    tags=["chat"],
    security=BEARER,
    summary="Chat, streamed as server-sent events",
    description="Events: `token` {text}, `citations` {citations}, `done` {session_id, reply}, "
    "`error` {code, message}.",
    request_max_body_size=_MAX_BODY,
    opt={PROBLEMS_OPT: (404,)},
)
async def chat_stream_route(
    request: Request[Any, Any, State],
    principal: Principal,
    chat: Upstream,
    limiter: Limiter,
    albums: AlbumsService,
    data: ChatRequest,
) -> Response[Any]:
    await _check_scope(albums, principal.user_id, data.filters)
    await limiter.check(principal.user_id, "llm_calls")
    opened = await chat.open_stream("/chat/stream", _headers(request), _encoded(data))
    if isinstance(opened, UpstreamResponse):
        return _relay(opened)
    if _turn_called_llm(opened.llm_calls):
        await limiter.record(principal.user_id, "llm_calls")
    return Stream(opened.chunks, media_type="text/event-stream")


@get(
    "/chat/sessions",
    tags=["chat"],
    security=BEARER,
    summary="The caller's chat sessions",
    responses=_ok(SessionList, "The caller's sessions, most recent first"),
    opt={PROBLEMS_OPT: ()},
)
async def chat_sessions_route(
    request: Request[Any, Any, State], principal: Principal, chat: Upstream
) -> Response[bytes]:
    return _relay(await chat.call("GET", "/chat/sessions", _headers(request)))


@get(
    "/chat/sessions/{session_id:str}",
    tags=["chat"],
    security=BEARER,
    summary="One chat session",
    responses=_ok(SessionDetail, "The session with its messages"),
    opt={PROBLEMS_OPT: ()},
)
async def chat_session_route(
    request: Request[Any, Any, State],
    principal: Principal,
    chat: Upstream,
    session_id: SessionIdParameter,
) -> Response[bytes]:
    return _relay(await chat.call("GET", f"/chat/sessions/{session_id}", _headers(request)))


@delete(
    "/chat/sessions/{session_id:str}",
    tags=["chat"],
    security=BEARER,
    summary="Delete a chat session",
    status_code=204,
    opt={PROBLEMS_OPT: ()},
)
async def delete_chat_session_route(
    request: Request[Any, Any, State],
    principal: Principal,
    chat: Upstream,
    session_id: SessionIdParameter,
) -> None:
    response = await chat.call("DELETE", f"/chat/sessions/{session_id}", _headers(request))
    # A 204 has no body to relay an upstream problem in, so its status is raised here instead.
    if response.status_code == 404:
        raise NotFoundError("no such chat session")
    if response.status_code == 401:
        raise UnauthorizedError("the token was not accepted")
    if response.status_code >= 300:
        raise ServiceUnavailableError("chat could not delete the session; try again shortly")


FORWARD_ROUTES = [
    search_route,
    chat_route,
    chat_stream_route,
    chat_sessions_route,
    chat_session_route,
    delete_chat_session_route,
]
