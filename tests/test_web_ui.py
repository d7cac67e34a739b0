"""The web UI in headless Chromium on the running stack: sign up, upload, search, chat."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import pytest

from collections_devtools.local.stack import LocalStack
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


@pytest.fixture(name="photos")
def fx_photos(tmp_path: Path) -> list[str]:
    paths = []
    for seed in range(3):
        path = tmp_path / f"photo-{seed}.jpg"
        path.write_bytes(jpeg(320, 240, color=(30, 60 + seed * 50, 200), seed=2000 + seed))
        paths.append(str(path))
    return paths


async def test_a_user_can_upload_search_and_chat_in_the_browser(
    stack: LocalStack, photos: list[str]
) -> None:
    """Signing up, opting in to GPS, dropping files, searching and chatting work without errors."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = await browser.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        await page.goto(stack.url("gateway"))
        await page.click("#auth-switch")
        await page.fill("#auth-email", f"ui-{uuid.uuid4().hex[:8]}@example.com")
        await page.fill("#auth-password", "Sup3r-Secret-pw")
        await page.click("#auth-submit")
        await page.wait_for_selector("#library:not(.hidden)")
        await page.locator("#keep-gps-note").filter(has_text="not kept").wait_for()
        await page.check("#keep-gps")
        await page.locator("#keep-gps-note").filter(has_text="kept for you only").wait_for()
        await page.set_input_files("#file-input", photos)
        # Locators, not page functions: the page's CSP forbids evaluating strings.
        await page.locator(".badge.searchable").nth(2).wait_for(timeout=60_000)
        await page.fill("#search-query", "blue")
        await page.click("#search-form button[type=submit]")
        await page.wait_for_selector(".badge.score")
        await page.click(".tile")
        await page.wait_for_selector("#detail:not(.hidden) dl")
        await page.click("#chat-toggle")
        await page.fill("#chat-input", "what colours are my photos?")
        await page.click("#chat-form button")
        reply = page.locator("#chat-log .bubble.assistant").filter(has_text=re.compile(r"\w{4,}"))
        await reply.wait_for(timeout=30_000)
        results = await page.text_content("#summary")
        await browser.close()
    assert [] == errors
    assert results is not None and "result" in results


async def test_the_status_view_shows_progress_failures_and_retries(
    stack: LocalStack, photos: list[str], tmp_path: Path
) -> None:
    """The Status panel counts items, names a failed one's stage and reason, and retries it."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    broken = tmp_path / "broken.jpg"
    broken.write_bytes(jpeg(320, 240, seed=3000)[:400])  # a JPEG cut short: ingest refuses it
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = await browser.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        await page.goto(stack.url("gateway"))
        await page.click("#auth-switch")
        await page.fill("#auth-email", f"ui-{uuid.uuid4().hex[:8]}@example.com")
        await page.fill("#auth-password", "Sup3r-Secret-pw")
        await page.click("#auth-submit")
        await page.wait_for_selector("#library:not(.hidden)")
        await page.click("#pipeline-toggle")
        await page.set_input_files("#file-input", [photos[0], str(broken)])
        # The panel follows /events: no reload between the upload and these.
        panel = page.locator("#pipeline-body")
        await (
            panel.locator(".badge.searchable")
            .filter(has_text="searchable 1")
            .wait_for(timeout=60_000)
        )
        failed = panel.locator("li").filter(has_text="corrupt_image")
        await failed.wait_for(timeout=60_000)
        assert "ingest" in (await failed.text_content() or "")
        async with page.expect_response(lambda r: r.url.endswith("/reprocess")) as retried:
            await failed.locator("button").click()
        assert 202 == (await retried.value).status
        # Reprocessed, it fails the same way again and is listed again after its new attempt.
        await panel.locator("li").filter(has_text="corrupt_image").wait_for(timeout=60_000)
        await browser.close()
    assert [] == errors
