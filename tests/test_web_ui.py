"""The web UI in headless Chromium on the running stack: sign up, upload, search, chat, delete.

Every test fails on an uncaught error or unhandled rejection in the page, on a console error, and
on a native browser dialog (alert/confirm/prompt): the UI must handle its promises and ask its
questions in the page. Screenshots go to ``.local/test-artifacts/web-ui/`` (printed).
"""

from __future__ import annotations

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
            if await page.locator("#choose-files:focus").count():
                break
            await page.keyboard.press("Tab")
        await expect(page.locator("#choose-files")).to_be_focused()
        async with page.expect_file_chooser() as chooser:
            await page.keyboard.press("Enter")
        assert (await chooser.value).is_multiple()
    browser.assert_clean()
