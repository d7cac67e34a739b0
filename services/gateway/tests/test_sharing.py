"""Read-only album links: exactly the album's current items, thumbnails and previews only.

Security cases: guessed and malformed tokens, expiry, revocation, replacement, an item removed
after sharing, another album's items, path tricks, the per-token rate limit, and what a visitor
never sees (originals, EXIF, GPS, the owner's id, analyses unless the owner opted in).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from collections_devtools.testing.api import ApiUser as User
from collections_devtools.testing.api import sign_up
from collections_devtools.testing.client import TestClient
from collections_devtools.testing.library import Library


@dataclass
class Shared:
    album_id: str
    token: str
    items: list[str]
    """Processed members, in the order they were added."""


async def _shared_album(
    client: TestClient, user: User, library: Library, *, members: int = 3, **share: Any
) -> Shared:
    album = (await client.post("/albums", json={"name": "Reef"}, headers=user.headers)).json()
    items = [await library.upload(user) for _ in range(members)]
    for item_id in items:
        await library.process(user, item_id)
    await client.post(
        f"/albums/{album['id']}/items", json={"item_ids": items}, headers=user.headers
    )
    response = await client.post(
        f"/albums/{album['id']}/share", json={"expires_in": 3600, **share}, headers=user.headers
    )
    assert 201 == response.status_code, response.text
    return Shared(album_id=album["id"], token=response.json()["token"], items=items)


async def test_a_link_shows_exactly_the_albums_items_without_login(
    client: TestClient, alice: User, library: Library
) -> None:
    """No token needed; the album's processed members only, with gateway thumbnail URLs."""
    shared = await _shared_album(client, alice, library)
    unprocessed = await library.upload(alice)
    elsewhere = await library.upload(alice)
    await library.process(alice, elsewhere)
    await client.post(
        f"/albums/{shared.album_id}/items", json={"item_ids": [unprocessed]}, headers=alice.headers
    )
    response = await client.get(f"/shared/{shared.token}")
    assert 200 == response.status_code, response.text
    album = response.json()
    assert ("Reef", 3) == (album["name"], album["item_count"])
    assert sorted(shared.items) == sorted(item["id"] for item in album["items"])
    first = album["items"][0]
    image = await client.get(first["thumbnail_url"])
    assert (200, "image/webp") == (image.status_code, image.headers["content-type"])
    assert f"thumbnail of {first['id']}".encode() == image.content
    preview = await client.get(first["preview_url"])
    assert f"preview of {first['id']}".encode() == preview.content
    assert "no-referrer" == preview.headers["referrer-policy"]


async def test_a_visitor_never_sees_originals_exif_locations_or_the_owner(
    client: TestClient, alice: User, library: Library
) -> None:
    """No S3 URL, key, user id, camera, position or analysis text in anything a link returns."""
    shared = await _shared_album(client, alice, library, members=1)
    item_id = shared.items[0]
    texts = [
        (await client.get(f"/shared/{shared.token}")).text,
        (await client.get(f"/shared/{shared.token}/items/{item_id}")).text,
    ]
    for text in texts:
        for secret in (alice.user_id, "images/", "Secretcam", "48.8584", "2.2945", "X-Amz", "exif"):
            assert secret not in text
    assert {"id", "thumbnail_url", "preview_url", "width", "height"} == set(
        (await client.get(f"/shared/{shared.token}/items/{item_id}")).json()
    )
    original = await client.get(f"/shared/{shared.token}/items/{item_id}/original")
    assert 404 == original.status_code


async def test_analyses_are_shown_only_when_the_owner_opts_in(
    client: TestClient, alice: User, library: Library
) -> None:
    """With include_analysis the summary and tags appear; without, they do not."""
    shared = await _shared_album(client, alice, library, members=1, include_analysis=True)
    item_id = shared.items[0]
    await library.sql(
        """WITH a AS (
               INSERT INTO analyses (id, item_id, user_id, version, source_event_id, provider,
                   model, prompt_version, category, summary, description, tags, objects,
                   visible_text, colors, setting, data)
               VALUES (gen_random_uuid(), $1::uuid, $2, 1, gen_random_uuid(), 'local', 'm', 'p',
                   'nature', 'A coral reef.', 'Secret description', ARRAY['coral', 'fish'],
                   ARRAY[]::text[], 'private words', ARRAY[]::text[], 'sea', '{}')
               RETURNING id)
           UPDATE items SET latest_analysis_id = (SELECT id FROM a) WHERE id = $1::uuid""",
        item_id,
        alice.user_id,
    )
    opted_in = (await client.get(f"/shared/{shared.token}/items/{item_id}")).json()
    assert ("A coral reef.", ["coral", "fish"]) == (opted_in["summary"], opted_in["tags"])
    page = (await client.get(f"/shared/{shared.token}")).text
    assert "Secret description" not in page and "private words" not in page
    again = await client.post(
        f"/albums/{shared.album_id}/share", json={"expires_in": 3600}, headers=alice.headers
    )
    hidden = (await client.get(f"/shared/{again.json()['token']}/items/{item_id}")).json()
    assert "summary" not in hidden and "tags" not in hidden


async def test_guessed_and_malformed_tokens_are_404(
    client: TestClient, alice: User, library: Library
) -> None:
    """A random token of the right shape, a wrong one, and injection attempts are all 404."""
    shared = await _shared_album(client, alice, library, members=1)
    guesses = [
        secrets.token_urlsafe(32),
        shared.token[:-1] + ("A" if shared.token[-1] != "A" else "B"),
        shared.token.upper(),
        shared.token + "x",
        "x' OR '1'='1",
        "%00",
        "a" * 5000,
    ]
    for token in guesses:
        response = await client.get(f"/shared/{token}")
        assert 404 == response.status_code, (token, response.status_code)
        assert "Reef" not in response.text


async def test_path_tricks_reach_nothing(client: TestClient, alice: User, library: Library) -> None:
    """Traversal, encoded slashes and extra segments never reach another route or an item."""
    shared = await _shared_album(client, alice, library, members=1)
    item_id = shared.items[0]
    tricks = [
        f"/shared/{shared.token}/../../albums",
        f"/shared/{shared.token}%2F..%2F..%2Falbums",
        f"/shared/..%2Falbums/{shared.album_id}",
        f"/shared/{shared.token}/items/{item_id}/..%2F..%2F..%2Fitems",
        f"/shared/{shared.token}/items/{item_id}/thumbnail/extra",
        f"/shared/{shared.token}/items/..%2F{item_id}/preview",
        f"/shared/{shared.token}/items/{alice.user_id}/thumbnail",
        f"/shared/%2e%2e/{shared.token}",
    ]
    for path in tricks:
        response = await client.get(path)
        # 401: the client normalised the path to a route that wants a login.
        assert response.status_code in (401, 404, 405), (path, response.status_code)
        assert "Reef" not in response.text and "thumbnail of" not in response.text


async def test_expired_revoked_and_replaced_links_are_404(
    client: TestClient, alice: User, library: Library
) -> None:
    """Past its expiry a link is 404; sharing again retires the old token; DELETE revokes."""
    shared = await _shared_album(client, alice, library, members=1)
    thumbnail = f"/shared/{shared.token}/items/{shared.items[0]}/thumbnail"
    assert 200 == (await client.get(thumbnail)).status_code
    await library.sql(
        "UPDATE album_shares SET expires_at = now() - interval '1 s' WHERE album_id = $1::uuid",
        shared.album_id,
    )
    assert 404 == (await client.get(f"/shared/{shared.token}")).status_code
    assert 404 == (await client.get(thumbnail)).status_code
    assert (
        None
        is (await client.get(f"/albums/{shared.album_id}", headers=alice.headers)).json()["share"]
    )
    renewed = await client.post(
        f"/albums/{shared.album_id}/share", json={"expires_in": 600}, headers=alice.headers
    )
    token = renewed.json()["token"]
    assert renewed.json()["url"].endswith(f"/shared#{token}")
    assert 200 == (await client.get(f"/shared/{token}")).status_code
    album = (await client.get(f"/albums/{shared.album_id}", headers=alice.headers)).json()
    assert album["share"]["expires_at"] == renewed.json()["expires_at"]
    replaced = await client.post(
        f"/albums/{shared.album_id}/share", json={"expires_in": 600}, headers=alice.headers
    )
    assert 404 == (await client.get(f"/shared/{token}")).status_code
    newest = replaced.json()["token"]
    revoked = await client.delete(f"/albums/{shared.album_id}/share", headers=alice.headers)
    assert 204 == revoked.status_code
    assert 404 == (await client.get(f"/shared/{newest}")).status_code
    assert (
        404 == (await client.get(f"/shared/{newest}/items/{shared.items[0]}/preview")).status_code
    )
    assert (
        204
        == (
            await client.delete(f"/albums/{shared.album_id}/share", headers=alice.headers)
        ).status_code
    )


async def test_an_item_removed_or_deleted_after_sharing_is_404(
    client: TestClient, alice: User, library: Library
) -> None:
    """Removing a member hides it from the link at once; deleting an album kills its link."""
    shared = await _shared_album(client, alice, library, members=2)
    gone, kept = shared.items
    await client.request(
        "DELETE",
        f"/albums/{shared.album_id}/items",
        json={"item_ids": [gone]},
        headers=alice.headers,
    )
    for suffix in ("", "/thumbnail", "/preview"):
        response = await client.get(f"/shared/{shared.token}/items/{gone}{suffix}")
        assert 404 == response.status_code, suffix
    listed = (await client.get(f"/shared/{shared.token}")).json()
    assert ([kept], 1) == ([item["id"] for item in listed["items"]], listed["item_count"])
    assert 200 == (await client.get(f"/items/{gone}", headers=alice.headers)).status_code
    await client.delete(f"/albums/{shared.album_id}", headers=alice.headers)
    assert 404 == (await client.get(f"/shared/{shared.token}/items/{kept}")).status_code


async def test_a_link_never_opens_another_album_or_user(
    client: TestClient, alice: User, bob: User, library: Library
) -> None:
    """Items of Alice's other album and of Bob's shared album are 404 through Alice's link."""
    shared = await _shared_album(client, alice, library, members=1)
    other = await _shared_album(client, alice, library, members=1)
    bobs = await _shared_album(client, bob, library, members=1)
    for item_id in (other.items[0], bobs.items[0], str(uuid.uuid4())):
        for suffix in ("", "/thumbnail", "/preview"):
            response = await client.get(f"/shared/{shared.token}/items/{item_id}{suffix}")
            assert 404 == response.status_code, (item_id, suffix)
    bobs_view = (await client.get(f"/shared/{bobs.token}")).json()
    assert bobs.items == [item["id"] for item in bobs_view["items"]]


async def test_shared_pages_paginate_newest_taken_first(
    client: TestClient, alice: User, library: Library
) -> None:
    """limit and cursor page through the link's items; a forged cursor is a 422."""
    shared = await _shared_album(client, alice, library, members=3)
    first = (await client.get(f"/shared/{shared.token}?limit=2")).json()
    second = (
        await client.get(f"/shared/{shared.token}?limit=2&cursor={first['next_cursor']}")
    ).json()
    seen = [item["id"] for item in first["items"] + second["items"]]
    assert list(reversed(shared.items)) == seen  # no EXIF dates: newest upload first
    assert None is second["next_cursor"]
    assert 422 == (await client.get(f"/shared/{shared.token}?cursor=Zm9v")).status_code


async def test_each_link_has_its_own_rate_limit(
    gateway: Callable[..., Any], library: Library
) -> None:
    """Past the per-token budget a link answers 429 with Retry-After; another link is fine."""
    async with gateway(share_rate_limit_per_minute=3) as client:
        library.client = client
        alice = await sign_up(client, f"share-{uuid.uuid4().hex[:8]}@example.com")
        first = await _shared_album(client, alice, library, members=1)
        second = await _shared_album(client, alice, library, members=1)
        codes = [(await client.get(f"/shared/{first.token}")).status_code for _ in range(4)]
        limited = await client.get(f"/shared/{first.token}/items/{first.items[0]}/thumbnail")
        other = await client.get(f"/shared/{second.token}")
    assert [200, 200, 200, 429] == codes
    assert (429, True) == (limited.status_code, int(limited.headers["retry-after"]) >= 1)
    assert 200 == other.status_code


async def test_request_logs_never_carry_a_token(
    client: TestClient, alice: User, library: Library, capfd: Any
) -> None:
    """The request log names the route of a link, never its token."""
    shared = await _shared_album(client, alice, library, members=1)
    capfd.readouterr()
    await client.get(f"/shared/{shared.token}")
    await client.get(f"/shared/{shared.token}/items/{shared.items[0]}/thumbnail")
    logged = capfd.readouterr().out
    assert "/shared/<token>/items/" in logged
    assert shared.token not in logged


async def test_the_shared_page_is_served_without_login_or_referrer(client: TestClient) -> None:
    """``/shared`` is the visitor's page: no token in its URL, a strict CSP, no Referer sent."""
    page = await client.get("/shared")
    assert 200 == page.status_code
    assert "/static/shared.js" in page.text
    assert "no-referrer" == page.headers["referrer-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
