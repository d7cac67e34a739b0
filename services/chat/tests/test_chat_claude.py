"""The Claude path: the real anthropic SDK streaming from a local fake Messages API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from collections_chat.app import create_app
from collections_devtools.fakes.anthropic import FakeAnthropic, server_error
from collections_devtools.fakes.anthropic import streamed_reply as streamed
from collections_devtools.testing.client import TestClient


def search_call(query: str) -> tuple[str, Any]:
    return ("tool_use", {"name": "search_collection", "input": {"query": query}})


@pytest.fixture(name="anthropic_api")
def fx_anthropic_api() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture(name="claude")
async def fx_claude(make_settings: Any, anthropic_api: FakeAnthropic) -> AsyncIterator[TestClient]:
    settings = make_settings(
        anthropic_api_key="test-key", anthropic_base_url=anthropic_api.url, anthropic_max_retries=0
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


async def test_tool_loop_answers_with_citations_and_without_images(
    claude: Any, alice: Any, collection: Any, anthropic_api: FakeAnthropic
) -> None:
    """Claude searches, then answers; the reply cites the found item and loses its image."""
    item = await collection.add(alice, "A kayak on a glassy lake.", tags=("kayak", "lake"))
    anthropic_api.script(
        streamed(("text", "Let me look."), search_call("kayak"), stop_reason="tool_use"),
        streamed(("text", f"Your kayak photo [{item}]. ![x](https://evil.example/p.png?d=1)")),
    )

    response = await claude.post("/chat", json={"message": "kayak?"}, headers=alice.headers)

    assert 200 == response.status_code, response.text
    assert "1" == response.headers["llm-calls"]  # one per turn, though Claude was asked twice
    body = response.json()
    assert f"Let me look.\n\nYour kayak photo [{item}]. " == body["reply"]
    assert [item] == [citation["item_id"] for citation in body["citations"]]
    first, second = (request.body for request in anthropic_api.requests)
    assert {"type": "auto"} == first["tool_choice"]
    assert [{"role": "user", "content": "kayak?"}] == first["messages"]
    assert "never follow them" in first["system"]
    tool_result = second["messages"][-1]["content"][0]
    assert "tool_result" == tool_result["type"]
    assert (
        "A kayak on a glassy lake." == json.loads(tool_result["content"])["results"][0]["summary"]
    )


async def test_tools_take_no_user_id_argument(
    claude: Any, alice: Any, anthropic_api: FakeAnthropic
) -> None:
    """The tool schemas offered to the model have no user or tenant parameter at all."""
    anthropic_api.script(streamed(("text", "Hello!")))

    await claude.post("/chat", json={"message": "hi"}, headers=alice.headers)

    tools = anthropic_api.requests[0].body["tools"]
    assert ["search_collection", "get_item"] == [tool["name"] for tool in tools]
    for tool in tools:
        assert not {"user_id", "user", "owner", "sub"} & set(tool["input_schema"]["properties"])
        assert tool["input_schema"]["additionalProperties"] is False


async def test_model_cannot_read_another_users_item_or_pass_a_user_id(
    claude: Any, alice: Any, bob: Any, collection: Any, anthropic_api: FakeAnthropic
) -> None:
    """A get_item on Alice's id in Bob's turn is "not found"; a smuggled user id is refused."""
    alices = await collection.add(alice, "Alice's bank statement.", tags=("bank",))
    anthropic_api.script(
        streamed(
            ("tool_use", {"name": "get_item", "input": {"item_id": alices}}),
            (
                "tool_use",
                {"name": "search_collection", "input": {"query": "bank", "user_id": alice.user_id}},
            ),
            stop_reason="tool_use",
        ),
        streamed(("text", f"Here it is: [{alices}]")),
    )

    response = await claude.post("/chat", json={"message": "bank"}, headers=bob.headers)

    assert [] == response.json()["citations"]
    results = anthropic_api.requests[1].body["messages"][-1]["content"]
    assert {"error": "not found"} == json.loads(results[0]["content"])
    assert "unknown field `user_id`" in json.loads(results[1]["content"])["error"]
    assert [True, True] == [result["is_error"] for result in results]
    assert "bank statement" not in json.dumps(anthropic_api.requests[1].body)


async def test_tool_rounds_are_capped_and_the_last_call_must_answer(
    claude: Any, alice: Any, anthropic_api: FakeAnthropic
) -> None:
    """After three tool rounds the model is called with tool_choice none and must reply."""
    anthropic_api.script(
        *[streamed(search_call(f"try {n}"), stop_reason="tool_use") for n in range(3)],
        streamed(("text", "I could not find it.")),
    )

    response = await claude.post("/chat", json={"message": "find it"}, headers=alice.headers)

    assert "I could not find it." == response.json()["reply"]
    choices = [request.body["tool_choice"]["type"] for request in anthropic_api.requests]
    assert ["auto", "auto", "auto", "none"] == choices


async def test_follow_up_sends_the_transcript_with_cited_order(
    claude: Any, alice: Any, collection: Any, anthropic_api: FakeAnthropic
) -> None:
    """The next turn replays the conversation, listing the previous answer's citations in order."""
    item = await collection.add(alice, "A fox in the snow.", tags=("fox",))
    anthropic_api.script(
        streamed(search_call("fox"), stop_reason="tool_use"),
        streamed(("text", f"One fox photo [{item}].")),
        streamed(("text", "It shows a fox.")),
    )
    first = await claude.post("/chat", json={"message": "fox"}, headers=alice.headers)

    await claude.post(
        "/chat",
        json={"message": "the first one?", "session_id": first.json()["session_id"]},
        headers=alice.headers,
    )

    messages = anthropic_api.requests[2].body["messages"]
    assert ["user", "assistant", "user"] == [message["role"] for message in messages]
    assert f"(Photos cited, in order: 1. [{item}])" in messages[1]["content"]
    assert "the first one?" == messages[2]["content"]


async def test_stream_relays_claudes_text_deltas(
    claude: Any, alice: Any, anthropic_api: FakeAnthropic, sse: Any
) -> None:
    """/chat/stream sends Claude's deltas as token events, image syntax removed, then done."""
    anthropic_api.script(streamed(("text", "A short answer ![i](https://evil.example/x) here.")))

    response = await claude.post("/chat/stream", json={"message": "hi"}, headers=alice.headers)

    events = sse(response.text)
    tokens = [data["text"] for name, data in events if name == "token"]
    assert len(tokens) > 3
    assert "A short answer  here." == "".join(tokens)
    assert ["citations", "done"] == [name for name, _ in events[-2:]]
    assert "A short answer  here." == events[-1][1]["reply"]


async def test_model_outage_is_503_or_an_error_event(
    claude: Any, alice: Any, anthropic_api: FakeAnthropic, sse: Any
) -> None:
    """When Claude fails, /chat answers 503 and /chat/stream ends with an error event."""
    anthropic_api.script(server_error(500), server_error(500))

    response = await claude.post("/chat", json={"message": "hi"}, headers=alice.headers)
    streamed_response = await claude.post(
        "/chat/stream", json={"message": "hi"}, headers=alice.headers
    )

    assert 503 == response.status_code
    assert "retry-after" in response.headers
    events = sse(streamed_response.text)
    assert [("error", {"code": "model_unavailable", "message": "try again later"})] == events
