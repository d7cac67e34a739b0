"""Chat turns and sessions for the verified caller; no Litestar types here.

A turn first resolves the session in the caller's own index (unknown, expired and other users'
ids all read as missing: 404), then runs the graph with a checkpointer bound to the caller.
Checkpoints are written once, when the run ends (``durability="exit"``): a turn that fails half
way leaves the conversation as it was, and each turn costs one checkpoint write.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from langchain_core.runnables import RunnableConfig

from collections_chat.agent.clients import SearchClient, WebSearch
from collections_chat.agent.context import ChatModel, Context, ModelUnavailableError
from collections_chat.agent.graph import compile_graph
from collections_chat.agent.state import AnyCitation as AnyStateCitation
from collections_chat.agent.state import ChatMessage, InputState, State
from collections_chat.checkpointer import DynamoDBSaver
from collections_chat.keys import is_session_id
from collections_chat.sanitize import ImageFilter, strip_images
from collections_chat.schemas import (
    AnyCitation,
    ChatRequest,
    ChatResponse,
    Citation,
    Deleted,
    Message,
    SessionDetail,
    SessionList,
    SessionSummary,
    WebCitation,
)
from collections_chat.sessions import SessionRecord, SessionStore
from collections_chat.settings import Settings
from collections_shared.auth import Principal
from collections_shared.db import Pool
from collections_shared.errors import NotFoundError, ServiceUnavailableError, ValidationFailedError
from collections_shared.logging import get_logger

log = get_logger(__name__)

_TITLE_CHARS = 80

Event = tuple[str, dict[str, Any]]
"""A server-sent event: its name and its JSON data."""


@dataclass(frozen=True)
class Turn:
    """A validated message, in a session that exists and belongs to the caller."""

    principal: Principal
    session: SessionRecord
    message: str
    scope: dict[str, Any] = field(default_factory=dict)
    """The request's search filters (JSON-ready), kept by every search of the turn."""


class ChatService:
    def __init__(
        self,
        *,
        settings: Settings,
        dynamodb: Any,
        pool: Pool,
        search: SearchClient,
        model: ChatModel,
        web: WebSearch | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._dynamodb = dynamodb
        self._pool = pool
        self._search = search
        self._model = model
        self._web = web
        self._clock = clock
        self.sessions = SessionStore(
            dynamodb, table=settings.table, ttl_seconds=settings.session_ttl_seconds, clock=clock
        )

    @property
    def llm_calls_per_turn(self) -> int:
        """What a turn that reaches the model costs the LLM quota: one per turn, not per round.

        A turn may ask the model up to ``max_tool_iterations`` times; the user asked once.
        """
        return 1 if self._model.calls_llm else 0

    async def start_turn(self, principal: Principal, request: ChatRequest) -> Turn:
        """Validate the message and find (or start) the session; raises before any streaming."""
        message = request.message.strip()
        if not message:
            raise ValidationFailedError("the message is empty", code="empty_message")
        if len(message) > self._settings.max_message_chars:
            raise ValidationFailedError(
                f"messages are limited to {self._settings.max_message_chars} characters",
                code="message_too_long",
            )
        if request.session_id is None:
            session = await self.sessions.create(
                principal.user_id, str(uuid.uuid4()), _title(message)
            )
        else:
            found = await self.sessions.get(principal.user_id, request.session_id)
            if found is None:
                raise NotFoundError("no such chat session")
            session = found
        scope = msgspec.to_builtins(request.filters) if request.filters is not None else {}
        return Turn(principal=principal, session=session, message=message, scope=scope)

    async def chat(self, principal: Principal, request: ChatRequest) -> ChatResponse:
        turn = await self.start_turn(principal, request)
        graph = compile_graph(self._saver(principal))
        try:
            output = await graph.ainvoke(
                InputState(message=turn.message),
                self._config(turn),
                context=self._context(principal, turn.scope),
                durability="exit",
                version="v2",
            )
        except ModelUnavailableError as error:
            raise ServiceUnavailableError("the assistant is unavailable right now") from error
        await self.sessions.touch(principal.user_id, turn.session.session_id, added_messages=2)
        answer = output.value.messages[-1]
        _log_turn(turn, answer, streamed=False)
        return ChatResponse(
            session_id=turn.session.session_id,
            reply=answer["content"],
            citations=[_citation(c) for c in answer.get("citations", [])],
        )

    async def stream(self, turn: Turn) -> AsyncIterator[Event]:
        """``token`` events as text arrives, then ``citations`` and ``done``; or ``error``."""
        graph = compile_graph(self._saver(turn.principal))
        images = ImageFilter()
        final: State | None = None
        try:
            async for part in graph.astream(
                InputState(message=turn.message),
                self._config(turn),
                context=self._context(turn.principal, turn.scope),
                stream_mode=["custom", "values"],
                durability="exit",
                version="v2",
            ):
                if part["type"] == "values":
                    final = part["data"]
                elif part["type"] == "custom" and (text := images.feed(str(part["data"]["token"]))):
                    yield _event("token", {"text": text})
            if tail := images.flush():
                yield _event("token", {"text": tail})
            await self.sessions.touch(
                turn.principal.user_id, turn.session.session_id, added_messages=2
            )
        except ModelUnavailableError:
            yield _event("error", {"code": "model_unavailable", "message": "try again later"})
            return
        except Exception as error:
            # The response has started: the client gets an error event rather than a cut stream.
            log.error("chat_stream_failed", error_type=type(error).__name__, exc_info=error)
            yield _event("error", {"code": "internal_error", "message": "something went wrong"})
            return
        assert final is not None
        answer = final.messages[-1]
        _log_turn(turn, answer, streamed=True)
        citations = [_citation(c) for c in answer.get("citations", [])]
        yield _event("citations", {"citations": msgspec.to_builtins(citations)})
        yield _event("done", {"session_id": turn.session.session_id, "reply": answer["content"]})

    async def list_sessions(self, principal: Principal) -> SessionList:
        records = await self.sessions.live(principal.user_id)
        return SessionList(sessions=[_summary(record) for record in records])

    async def get_session(self, principal: Principal, session_id: str) -> SessionDetail:
        session = await self.sessions.get(principal.user_id, session_id)
        if session is None:
            raise NotFoundError("no such chat session")
        saved = await self._saver(principal).aget_tuple(
            {"configurable": {"thread_id": session_id, "checkpoint_ns": ""}}
        )
        messages: list[ChatMessage] = (
            saved.checkpoint["channel_values"].get("messages", []) if saved else []
        )
        return SessionDetail(
            session_id=session_id,
            title=session.title,
            messages=[_message(message) for message in messages],
        )

    async def delete_session(self, principal: Principal, session_id: str) -> None:
        """Delete one of the caller's sessions; an expired one is purged but still a 404."""
        if not is_session_id(session_id):
            raise NotFoundError("no such chat session")
        live = await self.sessions.get(principal.user_id, session_id) is not None
        # The thread goes first: a crash in between leaves a visible session to delete again.
        await self._saver(principal).adelete_thread(session_id)
        await self.sessions.delete(principal.user_id, [session_id])
        if not live:
            raise NotFoundError("no such chat session")

    async def delete_all(self, principal: Principal) -> Deleted:
        """Delete every session of the caller, expired ones too (``DELETE /me`` uses this)."""
        entries = await self.sessions.entries(principal.user_id)
        saver = self._saver(principal)
        for session_id, _ in entries:
            await saver.adelete_thread(session_id)
        await self.sessions.delete(principal.user_id, [session_id for session_id, _ in entries])
        log.info("chat_sessions_deleted", count=len(entries))
        return Deleted(deleted=sum(1 for _, live in entries if live))

    def _saver(self, principal: Principal) -> DynamoDBSaver:
        return DynamoDBSaver(
            self._dynamodb,
            table=self._settings.table,
            owner=principal.user_id,
            ttl_seconds=self._settings.session_ttl_seconds,
            clock=self._clock,
        )

    def _context(self, principal: Principal, scope: dict[str, Any] | None = None) -> Context:
        return Context(
            principal=principal,
            model=self._model,
            search=self._search,
            pool=self._pool,
            web=self._web,
            max_tool_iterations=self._settings.max_tool_iterations,
            max_history_messages=self._settings.max_history_messages,
            search_limit=self._settings.search_result_limit,
            scope=scope or {},
        )

    @staticmethod
    def _config(turn: Turn) -> RunnableConfig:
        return {"configurable": {"thread_id": turn.session.session_id}}


def _log_turn(turn: Turn, answer: ChatMessage, *, streamed: bool) -> None:
    log.info(
        "chat_turn_completed",
        session_id=turn.session.session_id,
        new_session=turn.session.message_count == 0,
        streamed=streamed,
        citations=len(answer.get("citations", [])),
        reply_chars=len(answer["content"]),
    )


def _title(message: str) -> str:
    title = " ".join(strip_images(message).split())
    return title if len(title) <= _TITLE_CHARS else title[: _TITLE_CHARS - 1].rstrip() + "…"


def _summary(record: SessionRecord) -> SessionSummary:
    return SessionSummary(
        session_id=record.session_id,
        title=record.title,
        created_at=record.created_at,
        updated_at=record.updated_at,
        message_count=record.message_count,
    )


def _citation(citation: AnyStateCitation) -> AnyCitation:
    """A transcript citation in the API's shape; ones stored before ``kind`` are items."""
    if citation.get("kind") == "web":
        return msgspec.convert(citation, WebCitation)
    return msgspec.convert({**citation, "kind": "item"}, Citation)


def _message(message: ChatMessage) -> Message:
    citations = message.get("citations")
    stored = {key: value for key, value in message.items() if key != "citations"}
    converted = msgspec.convert(stored, Message)
    if citations is None:
        return converted
    return msgspec.structs.replace(converted, citations=[_citation(c) for c in citations])


def _event(name: str, data: dict[str, Any]) -> Event:
    return name, data
