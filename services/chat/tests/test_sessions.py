"""Sessions: listing, transcripts, deletion, expiry, and isolation between users."""

from __future__ import annotations

from typing import Any


async def start(client: Any, user: Any, message: str) -> str:
    response = await client.post("/chat", json={"message": message}, headers=user.headers)
    assert 200 == response.status_code, response.text
    session_id: str = response.json()["session_id"]
    return session_id


async def test_sessions_are_listed_most_recently_active_first(client: Any, alice: Any) -> None:
    """The list shows each session's title and message count, the latest activity first."""
    older = await start(client, alice, "holiday photos")
    newer = await start(client, alice, "birthday cake")
    await client.post(
        "/chat", json={"message": "and more", "session_id": newer}, headers=alice.headers
    )

    response = await client.get("/chat/sessions", headers=alice.headers)

    assert 200 == response.status_code
    sessions = response.json()["sessions"]
    assert [newer, older] == [session["session_id"] for session in sessions]
    assert ["birthday cake", "holiday photos"] == [session["title"] for session in sessions]
    assert [4, 2] == [session["message_count"] for session in sessions]
    assert sessions[0]["created_at"] <= sessions[0]["updated_at"]


async def test_a_session_shows_its_transcript_with_citations(
    client: Any, alice: Any, collection: Any
) -> None:
    """GET of a session returns the user and assistant messages, citations on the answers."""
    item = await collection.add(alice, "Snow on a pine forest.", tags=("snow",))
    session_id = await start(client, alice, "snow")

    response = await client.get(f"/chat/sessions/{session_id}", headers=alice.headers)

    assert 200 == response.status_code
    body = response.json()
    assert "snow" == body["title"]
    assert ["user", "assistant"] == [message["role"] for message in body["messages"]]
    assert "snow" == body["messages"][0]["content"]
    assert "citations" not in body["messages"][0]
    assert [item] == [c["item_id"] for c in body["messages"][1]["citations"]]


async def test_another_users_session_is_not_found_for_read_continue_or_delete(
    client: Any, alice: Any, bob: Any, collection: Any
) -> None:
    """Bob gets 404 for Alice's session on every route, and Alice's session is untouched."""
    await collection.add(alice, "Alice's passport photo.", tags=("passport",))
    session_id = await start(client, alice, "passport")

    read = await client.get(f"/chat/sessions/{session_id}", headers=bob.headers)
    resumed = await client.post(
        "/chat", json={"message": "the first one", "session_id": session_id}, headers=bob.headers
    )
    streamed = await client.post(
        "/chat/stream", json={"message": "hi", "session_id": session_id}, headers=bob.headers
    )
    deleted = await client.delete(f"/chat/sessions/{session_id}", headers=bob.headers)

    assert [404, 404, 404, 404] == [r.status_code for r in (read, resumed, streamed, deleted)]
    assert "application/problem+json" == resumed.headers["content-type"]
    assert "passport" not in resumed.text
    mine = await client.get(f"/chat/sessions/{session_id}", headers=alice.headers)
    assert 2 == len(mine.json()["messages"])
    assert [] == (await client.get("/chat/sessions", headers=bob.headers)).json()["sessions"]


async def test_another_users_items_never_reach_a_reply(
    client: Any, alice: Any, bob: Any, collection: Any
) -> None:
    """Bob's chat cites only Bob's items, even when he names one of Alice's item ids."""
    alices = await collection.add(alice, "A secret beach hideout.", tags=("beach",))
    bobs = await collection.add(bob, "A crowded beach in August.", tags=("beach",))

    search = await client.post("/chat", json={"message": "beach"}, headers=bob.headers)
    named = await client.post(
        "/chat", json={"message": f"tell me more about {alices}"}, headers=bob.headers
    )

    assert [bobs] == [c["item_id"] for c in search.json()["citations"]]
    assert alices not in search.text
    assert [] == named.json()["citations"]
    assert "couldn't find that photo" in named.json()["reply"]
    assert "secret" not in named.text


async def test_delete_removes_the_session_and_its_transcript(client: Any, alice: Any) -> None:
    """After DELETE the session is gone from the list and reads as 404."""
    session_id = await start(client, alice, "dogs")

    deleted = await client.delete(f"/chat/sessions/{session_id}", headers=alice.headers)
    again = await client.delete(f"/chat/sessions/{session_id}", headers=alice.headers)

    assert 204 == deleted.status_code
    assert 404 == again.status_code
    assert (
        404 == (await client.get(f"/chat/sessions/{session_id}", headers=alice.headers)).status_code
    )
    assert [] == (await client.get("/chat/sessions", headers=alice.headers)).json()["sessions"]


async def test_delete_all_removes_only_the_callers_sessions(
    client: Any, alice: Any, bob: Any
) -> None:
    """DELETE /chat/sessions answers how many it deleted and leaves other users' alone."""
    await start(client, alice, "one")
    await start(client, alice, "two")
    bobs = await start(client, bob, "three")

    response = await client.delete("/chat/sessions", headers=alice.headers)

    assert 200 == response.status_code
    assert {"deleted": 2} == response.json()
    assert [] == (await client.get("/chat/sessions", headers=alice.headers)).json()["sessions"]
    remaining = (await client.get("/chat/sessions", headers=bob.headers)).json()["sessions"]
    assert [bobs] == [session["session_id"] for session in remaining]
    assert {"deleted": 0} == (await client.delete("/chat/sessions", headers=alice.headers)).json()


async def test_an_expired_session_is_not_found_and_not_listed(
    client: Any, alice: Any, expire_session: Any
) -> None:
    """A session idle past its TTL but not yet deleted by DynamoDB reads as gone everywhere."""
    kept = await start(client, alice, "kept")
    expired = await start(client, alice, "expired")
    await expire_session(alice, expired)

    listed = await client.get("/chat/sessions", headers=alice.headers)
    read = await client.get(f"/chat/sessions/{expired}", headers=alice.headers)
    resumed = await client.post(
        "/chat", json={"message": "more", "session_id": expired}, headers=alice.headers
    )
    deleted = await client.delete(f"/chat/sessions/{expired}", headers=alice.headers)

    assert [kept] == [session["session_id"] for session in listed.json()["sessions"]]
    assert [404, 404, 404] == [read.status_code, resumed.status_code, deleted.status_code]


async def test_unknown_session_id_is_not_found(client: Any, alice: Any) -> None:
    """A session id that never existed gives a problem+json 404."""
    response = await client.post(
        "/chat", json={"message": "hi", "session_id": "no-such-session"}, headers=alice.headers
    )

    assert 404 == response.status_code
    assert "not_found" == response.json()["code"]


async def test_every_route_needs_a_valid_token(client: Any) -> None:
    """Without a bearer token every chat route answers 401."""
    responses = [
        await client.post("/chat", json={"message": "hi"}),
        await client.post("/chat/stream", json={"message": "hi"}),
        await client.get("/chat/sessions"),
        await client.get("/chat/sessions/abc"),
        await client.delete("/chat/sessions/abc"),
        await client.delete("/chat/sessions", headers={"Authorization": "Bearer not-a-jwt"}),
    ]

    assert [401] * 6 == [response.status_code for response in responses]


async def test_transcript_keeps_only_the_last_messages(make_settings: Any, alice: Any) -> None:
    """With a history cap of 4 the stored transcript holds the last 4 messages of 6."""
    from litestar.testing import AsyncTestClient

    from collections_chat.app import create_app

    async with AsyncTestClient(app=create_app(make_settings(max_history_messages=4))) as client:
        session_id = await start(client, alice, "turn one")
        for message in ("turn two", "turn three"):
            await client.post(
                "/chat", json={"message": message, "session_id": session_id}, headers=alice.headers
            )
        detail = (await client.get(f"/chat/sessions/{session_id}", headers=alice.headers)).json()
        listed = (await client.get("/chat/sessions", headers=alice.headers)).json()

    assert ["turn two", "turn three"] == [
        m["content"] for m in detail["messages"] if m["role"] == "user"
    ]
    assert 4 == len(detail["messages"])
    assert 6 == listed["sessions"][0]["message_count"]
