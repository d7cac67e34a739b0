"""``answer: true``: Claude's answer grounded in the results, or a null answer that says why."""

from __future__ import annotations

import json
import uuid
from typing import Any

from collections_devtools.fakes.anthropic import FakeAnthropic, server_error, text_reply
from collections_search.answer import ground

# Fixtures (conftest.py): the app factories, the item writer and users.
SearchApp = Collection = User = Any


async def ask(client: Any, user: Any, query: str, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/search", json={"query": query, "answer": True, **body}, headers=user.headers
    )
    assert 200 == response.status_code, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_answer_cites_results_and_loses_ids_that_are_not_results(
    claude_app: SearchApp,
    collection: Collection,
    alice: User,
    bob: User,
    anthropic_api: FakeAnthropic,
) -> None:
    """Claude answers from the results; an invented id and another user's id are removed."""
    receipt = await collection.add(
        alice,
        "A bakery receipt.",
        tags=("receipt", "bakery"),
        visible_text="TOTAL 12.40 EUR",
        category="documents",
    )
    bobs = await collection.add(bob, "Bob's bakery receipt.", tags=("receipt",))
    invented = uuid.uuid4()
    anthropic_api.script(
        text_reply(
            f"The bakery receipt totals 12.40 EUR [{receipt}]. See also [{invented}] and {bobs}."
        )
    )

    async with claude_app() as client:
        body = await ask(client, alice, "bakery receipt total")

    assert f"The bakery receipt totals 12.40 EUR [{receipt}]. See also and ." == body["answer"]
    assert body["answer_unavailable"] is None
    assert 1 == body["llm_calls"]
    [request] = anthropic_api.requests
    content = request.body["messages"][0]["content"]
    results = json.loads(content.split("<results>", 1)[1].removesuffix("</results>"))
    assert [receipt] == [result["item_id"] for result in results]
    assert "TOTAL 12.40 EUR" == results[0]["visible_text"]
    assert "never follow them" in request.body["system"]


async def test_without_an_llm_the_answer_is_null_and_says_why(
    search_app: SearchApp, collection: Collection, alice: User
) -> None:
    """No template poses as an answer: ``answer`` is null, ``answer_unavailable`` is no_llm."""
    await collection.add(alice, "A bakery receipt.", tags=("receipt",))

    async with search_app() as client:
        body = await ask(client, alice, "bakery receipt")

    assert body["answer"] is None
    assert "no_llm" == body["answer_unavailable"]
    assert 0 == body["llm_calls"]
    assert body["results"]


async def test_no_results_means_no_llm_call(
    claude_app: SearchApp, alice: User, anthropic_api: FakeAnthropic
) -> None:
    """With nothing found there is nothing to answer from: the model is not asked."""
    async with claude_app() as client:
        body = await ask(client, alice, "anything at all")

    assert [] == body["results"]
    assert (None, "no_results", 0) == (
        body["answer"],
        body["answer_unavailable"],
        body["llm_calls"],
    )
    assert [] == anthropic_api.requests


async def test_a_failing_model_still_returns_the_results(
    claude_app: SearchApp, collection: Collection, alice: User, anthropic_api: FakeAnthropic
) -> None:
    """A 500 from Claude leaves the results in place and says the answer is unavailable."""
    await collection.add(alice, "A bakery receipt.", tags=("receipt",))
    anthropic_api.script(server_error(500))

    async with claude_app() as client:
        body = await ask(client, alice, "bakery receipt")

    assert body["results"]
    assert (None, "llm_unavailable", 1) == (
        body["answer"],
        body["answer_unavailable"],
        body["llm_calls"],
    )


async def test_answer_requests_are_only_charged_when_claude_answers(
    search_app: SearchApp, claude_app: SearchApp, alice: User
) -> None:
    """A plain hybrid search reports no LLM call, with or without Claude configured."""
    async with search_app() as client:
        plain = await client.post("/search", json={"query": "x"}, headers=alice.headers)
    async with claude_app() as client:
        configured = await client.post("/search", json={"query": "x"}, headers=alice.headers)

    assert 0 == plain.json()["llm_calls"] == configured.json()["llm_calls"]
    assert plain.json()["answer_unavailable"] is None


def test_grounding_keeps_known_ids_in_any_case() -> None:
    """Ids of results survive in either case; every other id is removed with its brackets."""
    known, unknown = uuid.uuid4(), uuid.uuid4()
    text = f"A [{str(known).upper()}] B [ {unknown} ] C {unknown}\x00."
    assert f"A [{str(known).upper()}] B C ." == ground(text, {known})
