"""The chat API: thin handlers over :class:`ChatService` (``/chat``, ``/chat/sessions``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import msgspec
from litestar import Response, delete, get, post
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from collections_chat.schemas import ChatRequest, ChatResponse, Deleted, SessionDetail, SessionList
from collections_chat.service import ChatService, Event
from collections_shared.auth import Principal
from collections_shared.domain.chat import SESSION_ID_PATTERN

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]
SessionIdParameter = Annotated[str, Parameter(max_length=64, pattern=SESSION_ID_PATTERN)]


LLM_CALLS_HEADER = "llm-calls"
"""On every answered turn: what it costs the LLM quota (``1`` with Claude, ``0`` offline).

Only a turn that reached the model gets it: a refused message or session is a 4xx without it.
"""


@post("/chat", status_code=200, tags=["chat"], security=BEARER, summary="Send a message")
async def send_message(
    principal: Principal, chat_service: ChatService, data: ChatRequest
) -> Response[ChatResponse]:
    reply = await chat_service.chat(principal, data)
    return Response(reply, headers={LLM_CALLS_HEADER: str(chat_service.llm_calls_per_turn)})


@post(
    "/chat/stream",
    status_code=200,
    tags=["chat"],
    security=BEARER,
    summary="Send a message; the reply streams as server-sent events",
    description="Events: `token` {text}, `citations` {citations}, `done` {session_id, reply}, "
    "`error` {code, message}.",
)
async def stream_message(
    principal: Principal, chat_service: ChatService, data: ChatRequest
) -> ServerSentEvent:
    # Resolved before the response starts, so a bad session is a plain 404, not a stream.
    turn = await chat_service.start_turn(principal, data)
    return ServerSentEvent(
        _encoded(chat_service.stream(turn)),
        headers={
            "cache-control": "no-cache",
            "x-accel-buffering": "no",
            LLM_CALLS_HEADER: str(chat_service.llm_calls_per_turn),
        },
    )


async def _encoded(events: AsyncIterator[Event]) -> AsyncIterator[ServerSentEventMessage]:
    async for name, data in events:
        yield ServerSentEventMessage(event=name, data=msgspec.json.encode(data).decode())


@get("/chat/sessions", tags=["chat"], security=BEARER, summary="The caller's chat sessions")
async def list_sessions(principal: Principal, chat_service: ChatService) -> SessionList:
    return await chat_service.list_sessions(principal)


@get(
    "/chat/sessions/{session_id:str}",
    tags=["chat"],
    security=BEARER,
    summary="One chat session with its messages",
)
async def get_session(
    principal: Principal, chat_service: ChatService, session_id: SessionIdParameter
) -> SessionDetail:
    return await chat_service.get_session(principal, session_id)


@delete(
    "/chat/sessions/{session_id:str}",
    status_code=204,
    tags=["chat"],
    security=BEARER,
    summary="Delete a chat session",
)
async def delete_session(
    principal: Principal, chat_service: ChatService, session_id: SessionIdParameter
) -> None:
    await chat_service.delete_session(principal, session_id)


@delete(
    "/chat/sessions",
    status_code=200,
    tags=["chat"],
    security=BEARER,
    summary="Delete all of the caller's chat sessions",
)
async def delete_sessions(principal: Principal, chat_service: ChatService) -> Deleted:
    return await chat_service.delete_all(principal)


ROUTES = [
    send_message,
    stream_message,
    list_sessions,
    get_session,
    delete_session,
    delete_sessions,
]
