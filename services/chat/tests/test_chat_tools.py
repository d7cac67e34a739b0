"""The collection tool on the shared search contract, Claude through Bedrock, and citations
stored before web citations existed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from collections_chat.app import create_app
from collections_chat.service import _citation
from collections_devtools.fakes.anthropic import FakeAnthropic
from collections_devtools.fakes.anthropic import streamed_reply as streamed


@pytest.fixture(name="anthropic_api")
def fx_anthropic_api() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


def search_call(query: str) -> tuple[str, Any]:
    return ("tool_use", {"name": "search_collection", "input": {"query": query}})


async def test_nothing_relevant_is_said_to_the_model_as_no_match(
    make_settings: Any, alice: Any, collection: Any, anthropic_api: FakeAnthropic
) -> None:
    """An empty search result reaches Claude as ``no_match`` with a plain note."""
    await collection.add(alice, "A cat asleep on a sofa.", tags=("cat",))
    anthropic_api.script(
        streamed(search_call("volcano"), stop_reason="tool_use"),
        streamed(("text", "Nothing in your collection matches volcanoes.")),
    )
    settings = make_settings(
        anthropic_api_key="k", anthropic_base_url=anthropic_api.url, anthropic_max_retries=0
    )

    async with AsyncTestClient(app=create_app(settings)) as client:
        await client.post("/chat", json={"message": "volcanoes?"}, headers=alice.headers)

    result = anthropic_api.requests[1].body["messages"][-1]["content"][0]
    content = json.loads(result["content"])
    assert ([], True) == (content["results"], content["no_match"])
    assert "Nothing in the user's collection matches" in content["note"]
    assert "no_match" in anthropic_api.requests[0].body["system"]


@pytest.mark.parametrize(
    "body",
    [
        {"results": "everything"},
        {"results": [{"item_id": "not-a-uuid", "score": 1, "item": {}}]},
        {"mode": "hybrid"},
    ],
    ids=["results-not-a-list", "bad-result", "no-results-field"],
)
async def test_a_search_reply_off_the_contract_is_an_outage_not_a_crash(
    client: Any, alice: Any, search: Any, body: dict[str, Any]
) -> None:
    """A 200 from search that does not decode as the shared contract reads as unavailable."""
    search.answer_with = body

    response = await client.post("/chat", json={"message": "beach"}, headers=alice.headers)

    assert 200 == response.status_code
    assert "couldn't search your collection" in response.json()["reply"]
    assert [] == response.json()["citations"]


async def test_claude_through_bedrock_streams_the_reply(
    make_settings: Any,
    alice: Any,
    collection: Any,
    anthropic_api: FakeAnthropic,
    *,
    monkeypatch: pytest.MonkeyPatch,
    sse: Any,
) -> None:
    """With a Bedrock model and no key, the turn streams from Bedrock's signed stream route."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
    item = await collection.add(alice, "A kayak on a glassy lake.", tags=("kayak",))
    anthropic_api.script(
        streamed(search_call("kayak"), stop_reason="tool_use"),
        streamed(("text", f"Your kayak photo [{item}].")),
    )
    model = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    settings = make_settings(
        bedrock_model=model,
        bedrock_region="eu-west-1",
        bedrock_base_url=anthropic_api.url,
        anthropic_max_retries=0,
    )

    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.post(
            "/chat/stream", json={"message": "kayak?"}, headers=alice.headers
        )

    events = sse(response.text)
    assert f"Your kayak photo [{item}]." == events[-1][1]["reply"]
    assert len([name for name, _ in events if name == "token"]) > 1
    paths = [request.path for request in anthropic_api.requests]
    assert [f"/model/{model}/invoke-with-response-stream"] * 2 == paths
    assert "/eu-west-1/bedrock/aws4_request" in anthropic_api.requests[0].headers["authorization"]


def test_citations_stored_before_kinds_existed_read_as_items() -> None:
    """A transcript citation without ``kind`` is an item; a web one keeps its URL."""
    old = {"item_id": "abc", "summary": "A cat.", "score": 0.5}
    web = {"kind": "web", "url": "https://example.org/", "title": "Example"}
    assert {"kind": "item", **old} == msgspec.to_builtins(_citation(old))  # type: ignore[arg-type]
    assert web == msgspec.to_builtins(_citation(web))  # type: ignore[arg-type]
