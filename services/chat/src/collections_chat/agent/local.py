"""The offline responder: a deterministic stand-in for the model that needs no key or network.

It follows the same loop as Claude. On the first call of a turn it picks a tool: ``get_item``
when the message points at photos of the previous answer ("the first one", "the second",
"that one", an item id), ``web_search`` when web search is configured and the message asks for
the web ("on the web", "online"), ``search_collection`` with the message's content words
otherwise.
On the second call it writes a reply grounded only in what the tools returned, citing each photo
as ``[item id]``. Text is emitted word by word, so streaming looks like a model's.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from collections_chat.agent import prompts
from collections_chat.agent.context import Context, Emit, ModelTurn
from collections_chat.agent.state import Citation, Found, State, ToolCall, item_citations

_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
    "ninth": 9, "9th": 9, "tenth": 10, "10th": 10, "last": -1,
}  # fmt: skip
_ORDINAL = re.compile(
    r"\b(?:the\s+(?P<after_the>{words})\b|(?P<before_noun>{words})\s+(?:one|photo|picture|image|"
    r"item|result)s?\b|(?:#|number\s+|no\.\s*)(?P<number>10|[1-9])\b)".format(
        words="|".join(_ORDINALS)
    ),
    re.IGNORECASE,
)
_DEMONSTRATIVE = re.compile(r"\b(?:that|this)\s+(?:one|photo|picture|image)\b", re.IGNORECASE)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_WORD = re.compile(r"[\w'-]+")
# Chatty words that say how to ask, not what to find ("show me photos of dogs" → "dogs").
_FILLER_WORDS = (
    "a all an and any are can could do does find for from get give got have i in is it list "
    "look looking me my of on or photo photos pic pics picture pictures image images please "
    "see shot shots show some tell that the there these this those to want what where which "
    "with you your"
)
_FILLER = frozenset(_FILLER_WORDS.split())
_WEB = re.compile(
    r"\b(?:on|from|search|in)\s+the\s+(?:web|internet)\b|\bonline\b|\bweb\s+search\b", re.I
)


class LocalResponder:
    """Deterministic replies grounded in the tools' results (see the module docstring)."""

    calls_llm = False

    async def respond(self, state: State, context: Context, emit: Emit) -> ModelTurn:
        if not state.steps:
            planned = _plan(state, context)
            if isinstance(planned, str):
                return _say(planned, emit)
            return ModelTurn(text="", tool_calls=planned, step=_tool_use_step(planned))
        return _say(_compose(state), emit)


def _say(text: str, emit: Emit) -> ModelTurn:
    for token in re.findall(r"\s*\S+\s*|\s+", text):
        emit(token)
    return ModelTurn(text=text, tool_calls=[])


def _plan(state: State, context: Context) -> list[ToolCall] | str:
    """The tool calls for this message, or a reply when no tool can help."""
    message = state.message
    previous = _previous_citations(state)
    ids = list(dict.fromkeys(match.lower() for match in _UUID.findall(message)))
    if not ids and previous:
        position = _referenced_position(message)
        if position is not None:
            index = position - 1 if position > 0 else len(previous) - 1
            if index >= len(previous):
                return _out_of_range(message, len(previous))
            ids = [previous[index]["item_id"]]
    if ids:
        return [_call("get_item", {"item_id": item_id}) for item_id in ids[:3]]
    if context.web is not None and _WEB.search(message):
        terms = [
            word for word in _WORD.findall(_WEB.sub(" ", message)) if word.lower() not in _FILLER
        ]
        return [_call("web_search", {"query": (" ".join(terms) or message.strip())[:400]})]
    terms = [word for word in _WORD.findall(message) if word.lower() not in _FILLER]
    query = " ".join(terms) or message.strip()
    return [_call("search_collection", {"query": query[:500], "limit": context.search_limit})]


def _referenced_position(message: str) -> int | None:
    """1-based position ("the second" → 2), -1 for "the last one", None if none is meant."""
    if match := _ORDINAL.search(message):
        if number := match.group("number"):
            return int(number)
        word = match.group("after_the") or match.group("before_noun")
        return _ORDINALS[word.lower()]
    if _DEMONSTRATIVE.search(message):
        return 1
    return None


def _previous_citations(state: State) -> list[Citation]:
    for message in reversed(state.messages):
        if message["role"] == "assistant":
            return item_citations(message)
    return []


def _out_of_range(message: str, count: int) -> str:
    match = _ORDINAL.search(message)
    ordinal = (match.group("after_the") or match.group("before_noun") or "") if match else ""
    return prompts.OUT_OF_RANGE.format(
        count=count, plural="" if count == 1 else "s", ordinal=ordinal.lower() or "such"
    )


def _call(name: str, arguments: dict[str, Any]) -> ToolCall:
    return {"id": f"toolu_local_{uuid.uuid4().hex[:16]}", "name": name, "arguments": arguments}


def _tool_use_step(calls: list[ToolCall]) -> dict[str, object]:
    blocks = [
        {"type": "tool_use", "id": call["id"], "name": call["name"], "input": call["arguments"]}
        for call in calls
    ]
    return {"role": "assistant", "content": blocks}


def _compose(state: State) -> str:
    if _called(state, "web_search"):
        return _list_pages(state)
    details = [found for found in state.found if found["source"] == "item"]
    if details:
        return "\n\n".join(_describe(found) for found in details)
    searched = [found for found in state.found if found["source"] == "search"]
    if searched:
        return _list_results(_searched_query(state), searched)
    if any(error == "not found" for error in state.tool_errors):
        return prompts.NOT_FOUND
    if state.tool_errors:
        return prompts.SEARCH_UNAVAILABLE
    return prompts.NO_RESULTS.format(query=_searched_query(state))


def _called(state: State, tool: str) -> bool:
    return any(
        isinstance(block, dict) and block.get("name") == tool
        for step in state.steps
        for block in step.get("content", [])
    )


def _list_pages(state: State) -> str:
    if not state.pages:
        return prompts.WEB_UNAVAILABLE if state.tool_errors else prompts.WEB_NO_RESULTS
    lines = [f"From the web (not your photos), {len(state.pages)} result(s):"]
    for number, page in enumerate(state.pages, start=1):
        lines.append(f"{number}. {page['title'] or page['url']} [{page['url']}]")
    return "\n".join(lines)


def _searched_query(state: State) -> str:
    for step in state.steps:
        for block in step.get("content", []):
            if isinstance(block, dict) and block.get("name") == "search_collection":
                return str(block.get("input", {}).get("query", ""))
    return state.message


def _list_results(query: str, results: list[Found]) -> str:
    count = len(results)
    noun = "photo that matches" if count == 1 else "photos that match"
    lines = [f"I found {count} {noun} “{query}”:"]
    for number, found in enumerate(results, start=1):
        summary = found["summary"] or "(no description yet)"
        lines.append(f"{number}. {summary} [{found['item_id']}]")
    return "\n".join(lines)


def _describe(found: Found) -> str:
    item = found.get("details", {})
    name = item.get("filename") or "this photo"
    lines = [f"Here's more about “{name}” [{found['item_id']}]:"]
    lines.append(item.get("description") or item.get("summary") or "It has no analysis yet.")
    facts = [
        ("Tags", ", ".join(item.get("tags", []))),
        ("Visible text", f"“{item['visible_text']}”" if item.get("visible_text") else ""),
        ("Colors", ", ".join(item.get("colors", []))),
        ("Setting", item.get("setting", "")),
        ("Taken", (item.get("taken_at") or "")[:10]),
        ("Camera", item.get("camera", "")),
    ]
    lines.extend(f"{label}: {value}" for label, value in facts if value)
    return "\n".join(lines)
