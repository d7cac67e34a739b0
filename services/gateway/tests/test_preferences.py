"""``/me/preferences``: GPS is off by default, per user, and turning it off forgets positions."""

from __future__ import annotations

import asyncpg

from collections_devtools.testing.api import ApiUser as User
from collections_devtools.testing.api import upload
from collections_devtools.testing.client import TestClient
from collections_devtools.testing.fixtures import DatabaseUnderTest
from collections_devtools.testing.images import jpeg


async def _give_location(database: DatabaseUnderTest, item_id: str) -> None:
    """What ingest stores for an opted-in user, written directly."""
    connection = await asyncpg.connect(database.owner_dsn)
    try:
        await connection.execute(
            "UPDATE items SET gps_latitude = 48.8584, gps_longitude = 2.2945 WHERE id = $1::uuid",
            item_id,
        )
    finally:
        await connection.close()


async def test_gps_is_off_until_the_user_turns_it_on(client: TestClient, alice: User) -> None:
    """A new account keeps no GPS; PATCH turns it on; an empty PATCH changes nothing."""
    first = await client.get("/me/preferences", headers=alice.headers)
    assert (200, {"keep_gps": False, "items_with_location": 0}) == (first.status_code, first.json())
    turned_on = await client.patch(
        "/me/preferences", json={"keep_gps": True}, headers=alice.headers
    )
    assert (200, True) == (turned_on.status_code, turned_on.json()["keep_gps"])
    unchanged = await client.patch("/me/preferences", json={}, headers=alice.headers)
    assert True is unchanged.json()["keep_gps"]
    again = await client.get("/me/preferences", headers=alice.headers)
    assert True is again.json()["keep_gps"]


async def test_preferences_belong_to_one_user(
    client: TestClient,
    alice: User,
    bob: User,
) -> None:
    """Alice turning GPS on leaves Bob's preference off."""
    await client.patch("/me/preferences", json={"keep_gps": True}, headers=alice.headers)
    assert False is (await client.get("/me/preferences", headers=bob.headers)).json()["keep_gps"]


async def test_turning_gps_off_forgets_stored_positions_of_the_caller_only(
    client: TestClient,
    alice: User,
    bob: User,
    database: DatabaseUnderTest,
) -> None:
    """Switching off removes Alice's stored positions at once; Bob's stay."""
    await client.patch("/me/preferences", json={"keep_gps": True}, headers=alice.headers)
    for user, seed in ((alice, 11), (bob, 12)):
        item = (await upload(client, user, jpeg(seed=seed))).json()
        await _give_location(database, item["id"])
    located = await client.get("/me/preferences", headers=alice.headers)
    assert 1 == located.json()["items_with_location"]
    off = await client.patch("/me/preferences", json={"keep_gps": False}, headers=alice.headers)
    assert {"keep_gps": False, "items_with_location": 0} == off.json()
    assert (
        1
        == (await client.get("/me/preferences", headers=bob.headers)).json()["items_with_location"]
    )


async def test_bad_preference_bodies_are_client_errors(
    client: TestClient,
    alice: User,
) -> None:
    """Unknown fields and wrong types are 422 problems with a reason, never 500s."""
    for body in ({"keep_gps": "yes"}, {"share_everything": True}, [True]):
        response = await client.patch("/me/preferences", json=body, headers=alice.headers)
        assert 422 == response.status_code, (body, response.text)
    assert 401 == (await client.get("/me/preferences")).status_code
