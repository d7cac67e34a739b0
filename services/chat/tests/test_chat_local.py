"""Chat turns with the offline responder: grounded replies, citations and follow-ups."""

from __future__ import annotations

from typing import Any


async def test_reply_lists_matching_photos_with_citations(
    client: Any, alice: Any, collection: Any
) -> None:
    """A question is answered from the search results, each photo cited by id, at no LLM cost."""
    beach = await collection.add(alice, "A dog running on a sunny beach.", tags=("dog", "beach"))
    await collection.add(alice, "A bowl of ramen on a wooden table.", tags=("food",))

    response = await client.post(
        "/chat", json={"message": "show me photos of the beach"}, headers=alice.headers
    )

    assert 200 == response.status_code, response.text
    assert "0" == response.headers["llm-calls"]
    body = response.json()
    assert [beach] == [citation["item_id"] for citation in body["citations"]]
    assert "A dog running on a sunny beach." == body["citations"][0]["summary"]
    assert f"[{beach}]" in body["reply"]
    assert "ramen" not in body["reply"]
    assert body["session_id"]


async def test_follow_up_resolves_the_first_one_from_the_previous_answer(
    client: Any, alice: Any, collection: Any
) -> None:
    """ "Tell me more about the first one" reads the first photo cited in the previous turn."""
    first = await collection.add(
        alice,
        "A red kite over the dunes.",
        tags=("kite", "beach"),
        description="A red kite flies high above sand dunes on a windy afternoon.",
        visible_text="KITE FESTIVAL 2025",
        filename="kite.jpg",
    )
    second = await collection.add(alice, "Children building a sandcastle on the beach.")
    opening = await client.post("/chat", json={"message": "beach"}, headers=alice.headers)
    session_id = opening.json()["session_id"]
    assert [first, second] == [c["item_id"] for c in opening.json()["citations"]]

    follow_up = await client.post(
        "/chat",
        json={"message": "tell me more about the first one", "session_id": session_id},
        headers=alice.headers,
    )

    assert 200 == follow_up.status_code, follow_up.text
    body = follow_up.json()
    assert session_id == body["session_id"]
    assert [first] == [citation["item_id"] for citation in body["citations"]]
    assert "A red kite flies high above sand dunes on a windy afternoon." in body["reply"]
    assert "KITE FESTIVAL 2025" in body["reply"]
    assert "kite.jpg" in body["reply"]


async def test_follow_up_resolves_the_second_and_rejects_an_ordinal_out_of_range(
    client: Any, alice: Any, collection: Any
) -> None:
    """ "The second" picks the second citation; "the fifth" of two is answered without a tool."""
    await collection.add(alice, "A lighthouse at dusk.", tags=("lighthouse",))
    second = await collection.add(alice, "A lighthouse in the fog.", tags=("lighthouse",))
    opening = await client.post("/chat", json={"message": "lighthouse"}, headers=alice.headers)
    session_id = opening.json()["session_id"]

    the_second = await client.post(
        "/chat",
        json={"message": "and the second?", "session_id": session_id},
        headers=alice.headers,
    )
    the_fifth = await client.post(
        "/chat",
        json={"message": "what about the fifth one", "session_id": session_id},
        headers=alice.headers,
    )

    assert [second] == [c["item_id"] for c in the_second.json()["citations"]]
    assert "A lighthouse in the fog." in the_second.json()["reply"]
    assert [] == the_fifth.json()["citations"]
    assert "there is no fifth one" in the_fifth.json()["reply"]


async def test_no_match_says_so_without_citations(client: Any, alice: Any, collection: Any) -> None:
    """A query nothing matches gets an honest reply and no citations."""
    await collection.add(alice, "A cat asleep on a sofa.", tags=("cat",))

    response = await client.post(
        "/chat", json={"message": "find my photos of volcanoes"}, headers=alice.headers
    )

    assert 200 == response.status_code
    assert [] == response.json()["citations"]
    assert "Nothing in your collection matches" in response.json()["reply"]


async def test_search_outage_is_answered_not_raised(
    client: Any, alice: Any, search: Any, collection: Any
) -> None:
    """When the search service fails, the agent says so and the turn still succeeds."""
    await collection.add(alice, "A mountain lake.", tags=("lake",))
    search.fail_with = 503

    response = await client.post("/chat", json={"message": "lake"}, headers=alice.headers)

    assert 200 == response.status_code
    assert "couldn't search your collection" in response.json()["reply"]
    assert [] == response.json()["citations"]


async def test_search_tool_calls_search_with_the_callers_own_token(
    client: Any, alice: Any, search: Any, collection: Any
) -> None:
    """The search tool forwards the caller's bearer token and request id, never a user id."""
    await collection.add(alice, "A bicycle against a wall.", tags=("bicycle",))

    await client.post(
        "/chat",
        json={"message": "bicycle"},
        headers={**alice.headers, "x-request-id": "req-0123456789"},
    )

    assert 1 == len(search.requests)
    assert alice.headers["Authorization"] == search.requests[0]["authorization"]
    assert {"query", "mode", "limit"} == set(search.requests[0]["body"])
    assert "bicycle" == search.requests[0]["body"]["query"]
    assert "req-0123456789" == search.requests[0]["headers"]["x-request-id"]
