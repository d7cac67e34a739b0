"""Claude through the Anthropic Messages API, streamed, with our two tools.

One call per graph step: the node replays the transcript plus this turn's tool exchange, streams
the text deltas out as they arrive, and hands any ``tool_use`` blocks to the tools node. On the
last allowed round ``tool_choice`` is ``none``, so the model must answer with what it has.
Retries are the SDK's own (``max_retries`` in the settings), so they never stack with ours.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import anthropic
from anthropic.types import MessageParam, ToolChoiceParam, ToolParam

from collections_chat.agent.context import Context, Emit, ModelTurn, ModelUnavailableError
from collections_chat.agent.prompts import system_prompt
from collections_chat.agent.state import ChatMessage, State, ToolCall, item_citations
from collections_chat.agent.tools import tools_for
from collections_shared.llm import Claude
from collections_shared.logging import get_logger

log = get_logger(__name__)


class ClaudeModel:
    """Claude through the Anthropic API or Bedrock (:mod:`collections_shared.llm`)."""

    calls_llm = True

    def __init__(self, claude: Claude, *, max_tokens: int) -> None:
        self._client = claude.client
        self._model = claude.model
        self._max_tokens = max_tokens

    async def respond(self, state: State, context: Context, emit: Emit) -> ModelTurn:
        last_round = state.iterations >= context.max_tool_iterations
        choice: ToolChoiceParam = {"type": "none"} if last_round else {"type": "auto"}
        try:
            async with self._client.messages.stream(
                model=self._model,
                max_tokens=self._max_tokens,
                system=system_prompt(
                    now=datetime.now(UTC).isoformat(timespec="seconds"),
                    web=context.web is not None,
                ),
                messages=api_messages(state),
                tools=cast("list[ToolParam]", tools_for(context)),
                tool_choice=choice,
            ) as stream:
                async for delta in stream.text_stream:
                    emit(delta)
                message = await stream.get_final_message()
        except anthropic.APIError as error:
            log.warning("chat_model_failed", error_type=type(error).__name__)
            raise ModelUnavailableError("the model did not answer") from error
        blocks: list[dict[str, Any]] = []
        calls: list[ToolCall] = []
        for block in message.content:
            if block.type == "text":
                blocks.append({"type": "text", "text": block.text})
            elif block.type == "tool_use":
                arguments = block.input if isinstance(block.input, dict) else {}
                blocks.append(
                    {"type": "tool_use", "id": block.id, "name": block.name, "input": arguments}
                )
                calls.append({"id": block.id, "name": block.name, "arguments": arguments})
        text = "".join(block["text"] for block in blocks if block["type"] == "text")
        return ModelTurn(
            text=text,
            tool_calls=[] if last_round else calls,
            step={"role": "assistant", "content": blocks},
        )


def api_messages(state: State) -> list[MessageParam]:
    """The transcript as alternating user/assistant messages, then this turn's tool exchange."""
    merged: list[dict[str, Any]] = []
    for message in state.messages:
        content = _content(message)
        if merged and merged[-1]["role"] == message["role"]:
            merged[-1]["content"] += "\n\n" + content
        elif merged or message["role"] == "user":  # the API wants a user message first
            merged.append({"role": message["role"], "content": content})
    return cast("list[MessageParam]", [*merged, *state.steps])


def _content(message: ChatMessage) -> str:
    items = item_citations(message)
    if message["role"] != "assistant" or not items:
        return message["content"]
    # Keeps "the second one" answerable even if the reply did not list the photos in order.
    order = ", ".join(f"{n}. [{c['item_id']}]" for n, c in enumerate(items, start=1))
    return f"{message['content']}\n\n(Photos cited, in order: {order})"
