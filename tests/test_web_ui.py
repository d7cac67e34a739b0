"""The web UI in headless Chromium on the running stack: sign up, upload, search, chat, delete,
albums, favourites, bulk selection, shared links and chat history.

Every test fails on an uncaught error or unhandled rejection in the page, on a console error, and
on a native browser dialog (alert/confirm/prompt): the UI must handle its promises and ask its
questions in the page. Screenshots go to ``.local/test-artifacts/web-ui/`` (printed).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import PASSWORD, ApiUser, sign_up, upload
from collections_devtools.testing.images import jpeg
from collections_devtools.testing.terminal import wait_terminal

pytestmark = [pytest.mark.slow, pytest.mark.stack]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / ".local" / "test-artifacts" / "web-ui"
TOKENS = "collections.tokens"
PROCESSING = 90_000


@dataclass
class Browser:
    """A page plus everything it reported that a working UI never reports."""

    page: Any
    shots: Path
    errors: list[str] = field(default_factory=list)
    native_dialogs: list[str] = field(default_factory=list)
    responses: list[tuple[str, str, int]] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    async def shot(self, name: str) -> None:
        await self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        # Chromium logs every 4xx response; a status the test provokes on purpose is not a fault.
        status = re.search(r"status of (\d{3})", message.text)
        if status and int(status.group(1)) in self.expected_statuses:
            return
        self.errors.append(message.text)

    def assert_clean(self) -> None:
        assert [] == self.native_dialogs, "the UI opened a native browser dialog"
        assert [] == self.errors, "the page logged errors or left a rejection unhandled"


@pytest.fixture(scope="module")
def shots_root(pytestconfig: pytest.Config) -> Path:
    root = ARTIFACTS / time.strftime("%Y%m%d-%H%M%S")
    root.mkdir(parents=True, exist_ok=True)
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\nweb UI screenshots: {root}")
    return root


@pytest.fixture(name="browse")
def fx_browse(
    stack: LocalStack, shots_root: Path, request: pytest.FixtureRequest
) -> Callable[..., Any]:
    """``async with browse(viewport=...) as browser``: a fresh page on the stack's web UI."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")

    @asynccontextmanager
    async def start(**context_options: Any) -> AsyncIterator[Browser]:
        from playwright.async_api import async_playwright

        shots = shots_root / request.node.name
        shots.mkdir(exist_ok=True)
        async with async_playwright() as playwright:
            chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            context = await chromium.new_context(**context_options)
            page = await context.new_page()
            browser = Browser(page=page, shots=shots)
            page.on("pageerror", lambda error: browser.errors.append(f"pageerror: {error}"))
            page.on("console", browser.on_console)

            async def refuse(dialog: Any) -> None:
                browser.native_dialogs.append(f"{dialog.type}: {dialog.message}")
                await dialog.dismiss()

            page.on("dialog", refuse)
            page.on(
                "response",
                lambda response: browser.responses.append(
                    (response.request.method, httpx.URL(response.url).path, response.status)
                ),
            )
            await page.goto(stack.url("gateway"))
            try:
                yield browser
            finally:
                await browser.shot("last")
                await chromium.close()

    return start


def photos(directory: Path, count: int, first_seed: int = 2000) -> list[str]:
    paths = []
    for index in range(count):
        path = directory / f"photo-{first_seed + index}.jpg"
        color = (30, 60 + index * 50 % 190, 200)
        path.write_bytes(jpeg(320, 240, color=color, seed=first_seed + index))
        paths.append(str(path))
    return paths


async def log_in(page: Any, email: str) -> None:
    await page.fill("#auth-email", email)
    await page.fill("#auth-password", PASSWORD)
    await page.click("#auth-submit")
    await page.wait_for_selector("#library:not(.hidden)")
    await page.wait_for_selector("#live[data-state=connected]")


async def api_user(api: httpx.AsyncClient) -> ApiUser:
    return await sign_up(api, f"ui-{uuid.uuid4().hex[:8]}@example.com")


def accepted_upload(response: Any) -> bool:
    return bool(
        response.request.method == "POST"
        and httpx.URL(response.url).path == "/items"
        and response.status == 202
    )


async def stored_tokens(page: Any) -> dict[str, Any]:
    raw = await page.evaluate(f"() => localStorage.getItem({json.dumps(TOKENS)})")
    value: dict[str, Any] = json.loads(raw)
    return value


async def test_a_user_can_upload_search_and_chat_in_the_browser(
    browse: Callable[..., Any], api: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Signing up, uploading (the count follows without a reload, also for an upload from
    elsewhere), searching, opening an item with the keyboard and chatting all work cleanly."""
    from playwright.async_api import expect

    async with browse() as browser:
        page = browser.page
        email = f"ui-{uuid.uuid4().hex[:8]}@example.com"
        await page.click("#auth-switch")
        await page.fill("#auth-email", email)
        await page.fill("#auth-password", PASSWORD)
        await page.click("#auth-submit")
        await page.wait_for_selector("#live[data-state=connected]")
        await expect(page.locator("#summary")).to_have_text("0 items")
        await page.locator("#keep-gps-note").filter(has_text="not kept").wait_for()
        await page.check("#keep-gps")
        await page.locator("#keep-gps-note").filter(has_text="kept for you only").wait_for()

        await page.set_input_files("#file-input", photos(tmp_path, 3))
        await expect(page.locator("#summary")).to_have_text("3 items", timeout=30_000)
        await browser.shot("uploaded")
        await page.locator(".badge.searchable").nth(2).wait_for(timeout=PROCESSING)

        # The same account uploading from another client shows up through /events.
        login = await api.post("/auth/login", json={"email": email, "password": PASSWORD})
        other = ApiUser(email=email, user_id="", token=login.json()["access_token"])
        sent = await upload(api, other, jpeg(300, 200, color=(200, 40, 40), seed=77), "red.jpg")
        assert 202 == sent.status_code, sent.text
        await expect(page.locator("#summary")).to_have_text("4 items", timeout=30_000)

        await page.fill("#search-query", "blue")
        await page.click("#search-form button[type=submit]")
        await page.wait_for_selector(".badge.score")
        await expect(page.locator("#summary")).to_contain_text("result")
        await browser.shot("search")

        first = page.locator(".tile").first
        await first.focus()
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#detail:not(.hidden) dl")
        await expect(page.locator("#detail-title")).to_be_focused()
        await browser.shot("detail")
        await page.keyboard.press("Escape")
        await expect(page.locator("#detail")).to_be_hidden()
        await expect(first).to_be_focused()

        await page.click("#chat-toggle")
        await expect(page.locator("#chat-input")).to_be_focused()
        await page.fill("#chat-input", "what colours are my photos?")
        await page.click("#chat-form button[type=submit]")
        reply = page.locator("#chat-log .bubble.assistant").filter(has_text=re.compile(r"\w{4,}"))
        await reply.wait_for(timeout=30_000)
        await browser.shot("chat")
    browser.assert_clean()


async def test_deleting_asks_in_the_page_and_the_count_follows(
    browse: Callable[..., Any], api: httpx.AsyncClient
) -> None:
    """Delete asks in an in-page modal dialog (Escape cancels), then removes the tile and the
    count drops, with no native dialog."""
    from playwright.async_api import expect

    user = await api_user(api)
    for seed in (11, 12):
        sent = await upload(api, user, jpeg(200, 150, seed=seed), f"photo-{seed}.jpg")
        assert 202 == sent.status_code, sent.text
    async with browse() as browser:
        page = browser.page
        await log_in(page, user.email)
        await expect(page.locator("#summary")).to_have_text("2 items")
        await page.locator(".tile").first.click()
        delete = page.locator("#detail").get_by_role("button", name="Delete")
        await delete.click()

        dialog = page.get_by_role("dialog", name="Delete this image?")
        await expect(dialog).to_be_visible()
        await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        await browser.shot("confirm")
        await page.keyboard.press("Escape")
        await expect(dialog).to_have_count(0)
        await expect(delete).to_be_focused()
        await expect(page.locator("#summary")).to_have_text("2 items")

        await delete.click()
        await dialog.get_by_role("button", name="Delete").click()
        await expect(page.locator("#detail")).to_be_hidden()
        await expect(page.locator("#summary")).to_have_text("1 item")
        await expect(page.locator(".tile")).to_have_count(1)
        await expect(page.locator("#notices")).to_contain_text("Deleted")
    listing = await api.get("/items", headers=user.headers)
    assert 1 == len(listing.json()["items"])
    browser.assert_clean()


async def test_an_upload_after_the_access_token_expired_is_refreshed_and_sent(
    browse: Callable[..., Any], api: httpx.AsyncClient, tmp_path: Path
) -> None:
    """With a rejected access token the upload gets a 401, refreshes and is sent again; with a
    token about to expire it refreshes first and is sent once."""
    from playwright.async_api import expect

    user = await api_user(api)
    async with browse() as browser:
        page = browser.page
        browser.expected_statuses.add(401)
        await log_in(page, user.email)
        browser.responses.clear()
        tokens = await stored_tokens(page)
        broken = {**tokens, "access": tokens["access"][:-8] + "AAAAAAAA"}
        await page.evaluate(
            "([key, value]) => localStorage.setItem(key, value)", [TOKENS, json.dumps(broken)]
        )
        async with page.expect_response(accepted_upload, timeout=30_000):
            await page.set_input_files("#file-input", photos(tmp_path, 1, first_seed=3000))
        await expect(page.locator("#summary")).to_have_text("1 item", timeout=30_000)
        posts = [(path, status) for method, path, status in browser.responses if method == "POST"]
        assert [("/items", 401), ("/auth/refresh", 200), ("/items", 202)] == posts
        assert (await stored_tokens(page))["access"] not in (broken["access"], "")

        browser.responses.clear()
        soon = {**(await stored_tokens(page)), "expiresAt": 0}
        await page.evaluate(
            "([key, value]) => localStorage.setItem(key, value)", [TOKENS, json.dumps(soon)]
        )
        async with page.expect_response(accepted_upload, timeout=30_000):
            await page.set_input_files("#file-input", photos(tmp_path, 1, first_seed=3100))
        await expect(page.locator("#summary")).to_have_text("2 items", timeout=30_000)
        calls = [(method, path, status) for method, path, status in browser.responses]
        assert calls.index(("POST", "/auth/refresh", 200)) < calls.index(("POST", "/items", 202))
        assert 401 not in [status for _, _, status in calls]
    browser.assert_clean()


async def test_the_library_is_usable_by_keyboard_at_phone_width(
    browse: Callable[..., Any], api: httpx.AsyncClient
) -> None:
    """At 390 px the page has no sideways overflow, every control has a name, and signing in,
    choosing files and searching can be reached with the keyboard alone."""
    from playwright.async_api import expect

    user = await api_user(api)
    sent = await upload(api, user, jpeg(200, 150, seed=5), "narrow.jpg")
    assert 202 == sent.status_code, sent.text
    async with browse(viewport={"width": 390, "height": 844}) as browser:
        page = browser.page
        # Playwright turns file-chooser interception on without waiting for the browser's
        # reply, so a listener added just before the key press can miss the chooser it opens.
        choosers: asyncio.Queue[Any] = asyncio.Queue()
        page.on("filechooser", choosers.put_nowait)
        await page.focus("#auth-email")
        await page.keyboard.type(user.email)
        await page.keyboard.press("Tab")
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#live[data-state=connected]")
        await expect(page.locator("#summary")).to_have_text("1 item")
        await browser.shot("narrow")

        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide at a 390 px viewport"
        for control in await page.locator("button:visible, input:visible, select:visible").all():
            box = await control.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        snapshot = await page.locator("body").aria_snapshot()
        unnamed = [
            line
            for line in snapshot.splitlines()
            if re.match(r"\s*- (button|textbox|combobox|checkbox|searchbox)\s*(\[.*\])?:?$", line)
        ]
        assert [] == unnamed, snapshot

        await page.focus("#search-query")
        await page.keyboard.type("narrow")
        await page.keyboard.press("Enter")
        await expect(page.locator("#summary")).to_contain_text("result")
        for _ in range(30):
            if await page.locator("#file-input:focus").count():
                break
            await page.keyboard.press("Tab")
        await expect(page.locator("#file-input")).to_be_focused()
        await page.keyboard.press("Enter")
        chooser = await asyncio.wait_for(choosers.get(), timeout=10)
        assert chooser.is_multiple()
    browser.assert_clean()


async def test_the_owner_corrects_an_analysis_and_restores_the_first_version(
    browse: Callable[..., Any], api: httpx.AsyncClient
) -> None:
    """The panel's correction form saves only what changed (a new ``user`` version), the
    versions list says what each version changed, and a restore brings the first one back."""
    from playwright.async_api import expect

    user = await api_user(api)
    item_id = (await upload(api, user, jpeg(200, 150, seed=31), "photo-31.jpg")).json()["id"]
    deadline = time.monotonic() + PROCESSING / 1000
    while time.monotonic() < deadline:
        item = (await api.get(f"/items/{item_id}", headers=user.headers)).json()
        if item["status"] == "searchable":
            break
        await asyncio.sleep(0.5)
    async with browse() as browser:
        page = browser.page
        await log_in(page, user.email)
        await page.locator(".tile").first.click()
        panel = page.locator("#detail")
        await panel.get_by_text("Correct the analysis").click()
        await panel.get_by_label("Headline").fill("Blue test card")
        await panel.get_by_label("Places").fill("Lisbon, Portugal")
        await panel.get_by_role("button", name="Save corrections").click()
        await expect(page.locator("#notices")).to_contain_text("Saved as version 2")
        await expect(panel.locator("dd", has_text="Lisbon, Portugal")).to_be_visible()
        await expect(panel).to_contain_text("Corrected by you: headline, places")

        await panel.get_by_text("Versions").click()
        newest = panel.locator(".versions li").first
        await expect(newest).to_contain_text("v2 · user")
        await expect(newest).to_contain_text("changed headline, places")
        await browser.shot("versions")
        await (
            panel.locator(".versions li", has_text="v1")
            .get_by_role("button", name="restore")
            .click()
        )
        await expect(page.locator("#notices")).to_contain_text("Version 1 is current again")
    versions = (await api.get(f"/items/{item_id}/analyses", headers=user.headers)).json()
    assert [(3, 1), (2, None)] == [
        (v["version"], v["restored_from"]) for v in versions["analyses"][:2]
    ]
    assert "Blue test card" != versions["analyses"][0]["analysis"]["headline"]
    browser.assert_clean()


async def _curated_user(api: httpx.AsyncClient) -> tuple[ApiUser, list[str], str]:
    """A user with four searchable photos and one chat session: (user, item ids, session id)."""
    user = await api_user(api)
    ids = []
    for seed in range(4):
        color = (40 + seed * 50, 90, 200 - seed * 40)
        sent = await upload(
            api, user, jpeg(240, 180, color=color, seed=4100 + seed), f"trip-{seed}.jpg"
        )
        assert 202 == sent.status_code, sent.text
        ids.append(sent.json()["id"])
    done = await wait_terminal(api, user, ids)
    assert {"searchable"} == {item["status"] for item in done.values()}
    chat = await api.post("/chat", json={"message": "which photos are blue?"}, headers=user.headers)
    assert 200 == chat.status_code, chat.text
    return user, ids, chat.json()["session_id"]


async def _tile_ids(page: Any) -> list[str]:
    return [
        str(await cell.get_attribute("data-id")) for cell in await page.locator("#grid .cell").all()
    ]


async def _album_by_bulk_select(page: Any, browser: Browser) -> list[str]:
    """A new album "Trip" holding the first three tiles, picked by click and shift-click."""
    from playwright.async_api import expect

    await page.click("#album-new")
    await page.get_by_role("dialog", name="New album").get_by_label("Name").fill("Trip")
    await page.get_by_role("button", name="Create").click()
    await expect(page.locator("#album-title")).to_have_text("Trip")
    await expect(page.locator("#summary")).to_have_text("0 items")
    await browser.shot("01-album-created")
    await page.click("#sidebar [data-view=all]")
    await expect(page.locator("#summary")).to_have_text("4 items")
    await page.click("#select-toggle")
    tiles = page.locator("#grid .tile")
    await tiles.nth(0).click()
    await tiles.nth(2).click(modifiers=["Shift"])
    await expect(page.locator("#bulk-count")).to_have_text("3 selected")
    await expect(tiles.nth(1)).to_have_attribute("aria-pressed", "true")
    chosen = (await _tile_ids(page))[:3]
    await browser.shot("02-three-selected")
    await page.click("[data-bulk=add_to_album]")
    await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.locator("#notices")).to_contain_text("3 items added to “Trip”")
    await page.click("#select-done")
    await expect(page.locator("#bulk-bar")).to_be_hidden()
    return chosen


async def _star_and_filter(page: Any, browser: Browser, chosen: list[str]) -> None:
    """Star the second chosen item, show the album (by month) and the favourites, and the
    item's panel (its star, its album, its analysis versions)."""
    from playwright.async_api import expect

    star = page.locator(f'#grid .cell[data-id="{chosen[1]}"] .star')
    await star.click()
    await expect(star).to_have_attribute("aria-pressed", "true")
    await browser.shot("03-starred")
    await page.get_by_role("button", name="Trip (3)").click()
    await expect(page.locator("#summary")).to_have_text("3 items")
    assert sorted(chosen) == sorted(await _tile_ids(page))
    await expect(page.locator("#grid .group-head").first).to_be_visible()
    await expect(page.locator("#scrubber .month").nth(1)).to_be_visible()
    await browser.shot("04-album")
    await page.click("#sidebar [data-view=favorites]")
    await expect(page.locator("#summary")).to_have_text("1 item")
    assert [chosen[1]] == await _tile_ids(page)
    await browser.shot("05-favourites")
    await page.locator("#grid .tile").first.click()
    panel = page.locator("#detail")
    await expect(panel.locator(".star.in-panel")).to_have_attribute("aria-pressed", "true")
    await expect(panel.locator(".albums-of-item")).to_contain_text("Trip")
    await panel.locator("summary", has_text="Versions").click()
    await expect(panel.locator(".versions li").first).to_contain_text("v1")
    await browser.shot("05b-detail")
    await page.keyboard.press("Escape")


async def _share(page: Any, browser: Browser) -> str:
    """Share the album "Trip" from its bar; the link the dialog shows."""
    from playwright.async_api import expect

    await page.get_by_role("button", name="Trip (3)").click()
    await page.click("#album-share")
    await page.get_by_role("button", name="Create link").click()
    link: str = await page.locator("#share-link").input_value()
    assert "/shared#" in link
    await browser.shot("06-link")
    await page.get_by_role("button", name="Done").click()
    await expect(page.locator("#album-share-note")).to_contain_text("Shared by link until")
    return link


async def _visit_then_revoke(
    page: Any, browse: Callable[..., Any], link: str, chosen: list[str]
) -> None:
    """A browser without an account sees exactly the album's thumbnails; after the owner
    revokes the link, the same page says it opens nothing."""
    from playwright.async_api import expect

    async with browse() as visitor:
        visitor.expected_statuses.add(404)
        await visitor.page.goto(link)
        thumbnails = visitor.page.locator("#shared-grid .tile")
        await expect(thumbnails).to_have_count(3)
        await expect(visitor.page.locator("#shared-title")).to_have_text("Trip")
        shown = [str(await node.get_attribute("data-id")) for node in await thumbnails.all()]
        assert sorted(chosen) == sorted(shown)
        for image in await visitor.page.locator("#shared-grid img").all():
            await expect(image).to_have_js_property("complete", True)
            assert await image.evaluate("(node) => node.naturalWidth") > 0
        await visitor.shot("07-visitor-sees-the-album")
        await page.click("#album-share")
        await page.get_by_role("button", name="Revoke the current link").click()
        await expect(page.locator("#album-share-note")).to_have_text("Not shared")
        await visitor.page.reload()
        await expect(visitor.page.locator("#shared-title")).to_have_text(
            "This link does not open an album"
        )
        await expect(visitor.page.locator("#shared-grid .tile")).to_have_count(0)
        await visitor.shot("08-visitor-after-revocation")
    visitor.assert_clean()


async def _resume_chat(page: Any, browser: Browser) -> None:
    """Resume the earlier chat from the panel's list and continue it."""
    from playwright.async_api import expect

    await page.click("#chat-toggle")
    await page.locator("#chat-sessions summary").click()
    await page.get_by_role("button", name="Resume “which photos are blue?”").click()
    await expect(page.locator("#chat-log .bubble.user").first).to_have_text(
        "which photos are blue?"
    )
    await page.fill("#chat-input", "and the first one?")
    await page.click("#chat-form button[type=submit]")
    answer = page.locator("#chat-log .bubble.assistant").nth(1)
    await expect(answer).to_have_text(re.compile(r"\w{4,}"), timeout=30_000)
    await expect(page.locator("#chat-form button[type=submit]")).to_be_enabled()
    await browser.shot("09-chat-resumed")


async def test_albums_favourites_sharing_and_chat_history_in_the_browser(
    browse: Callable[..., Any], api: httpx.AsyncClient
) -> None:
    """Create an album, add three items by bulk select (click, shift-click), star one, filter by
    album and by favourite, share the album and open the link without an account (exactly those
    thumbnails), revoke it (404), and resume a chat session; a screenshot per step."""
    from playwright.async_api import expect

    user, _, session_id = await _curated_user(api)
    async with browse() as browser:
        page = browser.page
        await log_in(page, user.email)
        await expect(page.locator("#summary")).to_have_text("4 items")
        chosen = await _album_by_bulk_select(page, browser)
        await _star_and_filter(page, browser, chosen)
        link = await _share(page, browser)
        await _visit_then_revoke(page, browse, link, chosen)
        assert 404 == (await api.get(f"/shared/{link.split('#', 1)[1]}")).status_code
        await _resume_chat(page, browser)
    browser.assert_clean()
    resumed = await api.get(f"/chat/sessions/{session_id}", headers=user.headers)
    assert 4 == len(resumed.json()["messages"])


async def test_the_status_view_shows_progress_failures_and_retries(
    browse: Callable[..., Any], tmp_path: Path
) -> None:
    """The Status panel counts the caller's items as they move, names a failed one's stage and
    reason, and its Retry reprocesses it (POST /items/{id}/reprocess answers 202)."""
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(jpeg(320, 240, seed=3000)[:400])  # a JPEG cut short: ingest refuses it
    async with browse() as browser:
        page = browser.page
        await page.click("#auth-switch")
        await log_in(page, f"ui-{uuid.uuid4().hex[:8]}@example.com")
        await page.click("#pipeline-toggle")
        await page.set_input_files("#file-input", [*photos(tmp_path, 1, 3100), str(broken)])
        # The panel follows /events: no reload between the upload and these.
        panel = page.locator("#pipeline-body")
        searchable = panel.locator(".badge.searchable").filter(has_text="searchable 1")
        await searchable.wait_for(timeout=PROCESSING)
        failed = panel.locator("li").filter(has_text="corrupt_image")
        await failed.wait_for(timeout=PROCESSING)
        assert "ingest failed" in (await failed.text_content() or "")
        await browser.shot("status")
        async with page.expect_response(lambda r: r.url.endswith("/reprocess")) as retried:
            await failed.get_by_role("button", name="Retry").click()
        assert 202 == (await retried.value).status
        # Reprocessed, it fails the same way again and is listed again after its new attempt.
        await panel.locator("li").filter(has_text="corrupt_image").wait_for(timeout=PROCESSING)
    browser.assert_clean()
