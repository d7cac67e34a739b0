"""The agent graph: begin_turn → call_model ⇄ tools → finish.

``call_model`` asks the model (Claude or the offline responder) what to do; ``tools`` runs the
calls it asked for, as the verified caller; after at most ``max_tool_iterations`` rounds the
model must answer. ``finish`` turns the text into the reply: images stripped, citations limited
to items the tools returned, the transcript trimmed and the turn's scratch cleared, so the
checkpoint written at the end of the run stays small.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from collections_chat.agent import prompts
from collections_chat.agent.context import Context
from collections_chat.agent.state import (
    AnyCitation,
    ChatMessage,
    Found,
    InputState,
    State,
    WebPage,
)
from collections_chat.agent.tools import run_tool
from collections_chat.sanitize import strip_images

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# An item id, or a URL (up to whitespace, a bracket, a quote or an angle bracket).
_MENTION = re.compile(rf"(?P<item>{_UUID})|(?P<url>https?://[^\s\[\]()<>\"']+)", re.IGNORECASE)
_SUMMARY_CHARS = 300
_TITLE_CHARS = 200


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def begin_turn(state: State) -> dict[str, Any]:
    """Add the user's message to the transcript and start a clean scratch for this turn."""
    message: ChatMessage = {"role": "user", "content": state.message, "created_at": _now()}
    return {"messages": [*state.messages, message], **_empty_scratch()}


async def call_model(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """One model response; its text is streamed as it arrives."""
    # A second text block this turn is separated from the first, in the stream as in the reply.
    prefix = "\n\n" if any(state.texts) else ""
    started = False

    def emit(delta: str) -> None:
        nonlocal started
        if not started and prefix:
            runtime.stream_writer({"token": prefix})
        started = True
        runtime.stream_writer({"token": delta})

    turn = await runtime.context.model.respond(state, runtime.context, emit)
    update: dict[str, Any] = {"tool_calls": turn.tool_calls}
    if turn.text:
        update["texts"] = [*state.texts, prefix + turn.text]
    if turn.tool_calls and turn.step is not None:
        update["steps"] = [*state.steps, turn.step]
    return update


def route_model_output(state: State) -> Literal["tools", "finish"]:
    """Run the requested tools, or finish when the model answered."""
    return "tools" if state.tool_calls else "finish"


async def tools(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the model's tool calls as the verified caller and record what they found."""
    context = runtime.context
    blocks: list[dict[str, Any]] = []
    found: list[Found] = [*state.found]
    pages: list[WebPage] = [*state.pages]
    errors = [*state.tool_errors]
    for call in state.tool_calls:
        result = await run_tool(call, context)
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": call["id"],
            "content": result.content,
        }
        if result.error is not None:
            block["is_error"] = True
            errors.append(result.error)
        blocks.append(block)
        found.extend(result.found)
        pages.extend(result.pages)
    return {
        "steps": [*state.steps, {"role": "user", "content": blocks}],
        "found": found,
        "pages": pages,
        "tool_errors": errors,
        "tool_calls": [],
        "iterations": state.iterations + 1,
    }


async def finish(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Store the sanitized reply with its citations; keep the last N messages only."""
    # Exactly what was streamed (the same filter), so the stored reply matches the stream.
    reply = strip_images("".join(state.texts))
    if not reply.strip():
        reply = prompts.STEP_LIMIT
        runtime.stream_writer({"token": reply})
    answer: ChatMessage = {
        "role": "assistant",
        "content": reply,
        "created_at": _now(),
        "citations": cite(reply, state.found, state.pages),
    }
    history = [*state.messages, answer][-runtime.context.max_history_messages :]
    return {"messages": history, **_empty_scratch()}


def cite(reply: str, found: list[Found], pages: list[WebPage] | None = None) -> list[AnyCitation]:
    """The found items and web pages the reply mentions, in order of first mention.

    Items are mentioned by id, pages by URL. Only what a tool returned this turn qualifies: an
    id or a URL the model made up, or read in a caption or a page, never becomes a citation,
    so item citations can only be the caller's own items.
    """
    by_id: dict[str, Found] = {}
    for item in found:
        by_id.setdefault(item["item_id"].lower(), item)
    by_url: dict[str, WebPage] = {}
    for returned in pages or []:
        by_url.setdefault(_url_key(returned["url"]), returned)
    citations: list[AnyCitation] = []
    seen: set[str] = set()
    for match in _MENTION.finditer(reply):
        if item_id := match.group("item"):
            key = item_id.lower()
            if key not in seen and (cited := by_id.get(key)):
                summary = strip_images(cited["summary"])[:_SUMMARY_CHARS]
                citations.append(
                    {"item_id": cited["item_id"], "summary": summary, "score": cited["score"]}
                )
        else:
            key = _url_key(match.group("url"))
            if key not in seen and (page := by_url.get(key)):
                title = strip_images(page["title"])[:_TITLE_CHARS]
                citations.append({"kind": "web", "url": page["url"], "title": title})
        seen.add(key)
    return citations


def _url_key(url: str) -> str:
    """A URL as mentioned in prose: trailing punctuation and slash do not make it another."""
    return url.rstrip(".,;:!?").rstrip("/")


def _empty_scratch() -> dict[str, Any]:
    return {
        "steps": [],
        "tool_calls": [],
        "found": [],
        "pages": [],
        "tool_errors": [],
        "texts": [],
        "iterations": 0,
    }


builder = StateGraph(State, context_schema=Context, input_schema=InputState)
builder.add_node(begin_turn)
builder.add_node(call_model)
builder.add_node(tools)
builder.add_node(finish)
builder.add_edge(START, "begin_turn")
builder.add_edge("begin_turn", "call_model")
builder.add_conditional_edges("call_model", route_model_output)
builder.add_edge("tools", "call_model")
builder.add_edge("finish", END)


def compile_graph(
    checkpointer: BaseCheckpointSaver[Any],
) -> CompiledStateGraph[State, Context, InputState, State]:
    """The graph with a checkpointer bound to one caller (compiling takes well under 1 ms)."""
    return builder.compile(checkpointer=checkpointer, name="collections-chat")
