"""Search and chat: forwarded to the internal services with the caller's token."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.response import Stream

from collections_gateway.limits import Limiter
from collections_gateway.upstream import Upstream
from collections_shared.auth import Principal
from collections_shared.errors import NotFoundError, PayloadTooLargeError

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]
_MAX_BODY = 64 * 1024


def _headers(request: Request[Any, Any, State]) -> dict[str, str]:
    headers = dict(request.headers)
    headers["x-request-id"] = str(request.scope.get("state", {}).get("request_id", ""))
    return headers


async def _body(request: Request[Any, Any, State]) -> bytes:
    body = await request.body()
    if len(body) > _MAX_BODY:
        raise PayloadTooLargeError("the request body is larger than 64 KiB", code="body_too_large")
    return body


def _relay(response: Any) -> Response[bytes]:
    return Response(
        response.body, status_code=response.status_code, media_type=response.content_type
    )


def _uses_llm(body: bytes, *, chat: bool) -> bool:
    if chat:
        return True
    try:
        parsed = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return False
    return isinstance(parsed, dict) and (
        bool(parsed.get("answer")) or parsed.get("mode") == "agentic"
    )


@post(
    "/search", tags=["search"], security=BEARER, summary="Keyword, vector, hybrid or agentic search"
)
async def search_route(
    request: Request[Any, Any, State], principal: Principal, search: Upstream, limiter: Limiter
) -> Response[bytes]:
    body = await _body(request)
    if _uses_llm(body, chat=False):
        limiter.spend(principal.user_id, "llm_calls")
    return _relay(await search.call("POST", "/search", _headers(request), body))


@post("/chat", tags=["chat"], security=BEARER, summary="Send a message to the collection agent")
async def chat_route(
    request: Request[Any, Any, State], principal: Principal, chat: Upstream, limiter: Limiter
) -> Response[bytes]:
    body = await _body(request)
    limiter.spend(principal.user_id, "llm_calls")
    return _relay(await chat.call("POST", "/chat", _headers(request), body))


@post(
    "/chat/stream", tags=["chat"], security=BEARER, summary="Chat, streamed as server-sent events"
)
async def chat_stream_route(
    request: Request[Any, Any, State], principal: Principal, chat: Upstream, limiter: Limiter
) -> Stream:
    body = await _body(request)
    limiter.spend(principal.user_id, "llm_calls")
    return Stream(
        chat.stream("/chat/stream", _headers(request), body), media_type="text/event-stream"
    )


@get("/chat/sessions", tags=["chat"], security=BEARER, summary="The caller's chat sessions")
async def chat_sessions_route(
    request: Request[Any, Any, State], principal: Principal, chat: Upstream
) -> Response[bytes]:
    return _relay(await chat.call("GET", "/chat/sessions", _headers(request)))


@get("/chat/sessions/{session_id:str}", tags=["chat"], security=BEARER, summary="One chat session")
async def chat_session_route(
    request: Request[Any, Any, State],
    principal: Principal,
    chat: Upstream,
    session_id: Annotated[str, Parameter(max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")],
) -> Response[bytes]:
    return _relay(await chat.call("GET", f"/chat/sessions/{session_id}", _headers(request)))


@delete(
    "/chat/sessions/{session_id:str}",
    tags=["chat"],
    security=BEARER,
    summary="Delete a chat session",
    status_code=204,
)
async def delete_chat_session_route(
    request: Request[Any, Any, State],
    principal: Principal,
    chat: Upstream,
    session_id: Annotated[str, Parameter(max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")],
) -> None:
    response = await chat.call("DELETE", f"/chat/sessions/{session_id}", _headers(request))
    if response.status_code == 404:
        raise NotFoundError("no such chat session")


FORWARD_ROUTES = [
    search_route,
    chat_route,
    chat_stream_route,
    chat_sessions_route,
    chat_session_route,
    delete_chat_session_route,
]
