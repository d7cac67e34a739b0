"""The real `collections` command against the running local stack, as a user would run it."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from collections_devtools import hostile_images
from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import PASSWORD, ApiUser, sign_up
from collections_devtools.testing.fixtures import free_port
from collections_devtools.testing.images import jpeg

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Cli:
    api: str
    config: Path
    email: str

    async def __call__(self, *args: str, password: str = PASSWORD, **env: str) -> Result:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "collections_cli",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={
                **os.environ,
                "COLLECTIONS_API": self.api,
                "COLLECTIONS_CONFIG_DIR": str(self.config),
                "COLLECTIONS_EMAIL": self.email,
                "COLLECTIONS_PASSWORD": password,
                "COLUMNS": "200",
                **env,
            },
        )
        out, err = await process.communicate()
        assert process.returncode is not None
        return Result(process.returncode, out.decode(), err.decode())


@pytest.fixture(name="cli")
async def fx_cli(stack: LocalStack, api: httpx.AsyncClient, tmp_path: Path) -> Cli:
    user: ApiUser = await sign_up(api, f"cli-{uuid.uuid4().hex[:10]}@example.com")
    cli = Cli(stack.url("gateway"), tmp_path / "config", user.email)
    logged_in = await cli("login")
    assert 0 == logged_in.code, logged_in.err
    return cli


def _folder(root: Path, count: int, seed: int) -> Path:
    (root / "sub").mkdir(parents=True)
    for index in range(count):
        target = root / ("sub" if index % 2 else ".") / f"photo-{index}.jpg"
        target.write_bytes(jpeg(width=96, height=64, seed=seed + index))
    (root / "notes.txt").write_text("not an image")
    return root


async def test_login_keeps_tokens_readable_only_by_the_user(cli: Cli) -> None:
    """After `login` the sessions file exists with mode 0600 and names this server."""
    sessions = cli.config / "sessions.json"
    assert 0o600 == stat.S_IMODE(sessions.stat().st_mode)
    assert cli.api in json.loads(sessions.read_text())


async def test_upload_a_folder_twice_then_search_and_export(cli: Cli, tmp_path: Path) -> None:
    """A folder uploads and becomes searchable; the second run skips every file by its hash."""
    folder = _folder(tmp_path / "photos", 4, seed=100)
    first = await cli("upload", str(folder), "--wait", "--concurrency", "2")
    assert 0 == first.code, first.err
    assert "uploaded 4, duplicates skipped 0, not images 1" in first.out
    assert "searchable 4, failed 0" in first.out
    second = await cli("upload", str(folder), "--json")
    assert 0 == second.code, second.err
    report = json.loads(second.out)
    assert (0, 4, 1) == (report["uploaded"], report["duplicates"], report["skipped"])

    found = await cli("search", "photo", "--mode", "keyword", "--json")
    assert 0 == found.code, found.err
    assert "results" in json.loads(found.out)

    exported = tmp_path / "export.jsonl"
    images = tmp_path / "originals"
    done = await cli("export", "--out", str(exported), "--images", str(images))
    assert 0 == done.code, done.err
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert 4 == len(lines)
    assert all(line["analysis"] and line["status"] == "searchable" for line in lines)
    assert 4 == len(list(images.iterdir()))
    assert not any(key.endswith("_url") for key in lines[0])


async def test_items_list_show_and_delete(cli: Cli, tmp_path: Path) -> None:
    """An uploaded item is listed, shown as JSON, deleted, and then gone (404 is one line)."""
    folder = _folder(tmp_path / "one", 1, seed=300)
    uploaded = await cli("upload", str(folder), "--json")
    item_id = json.loads(uploaded.out)["files"][-1]["item_id"]
    listing = await cli("items", "list", "--json")
    assert item_id in listing.out
    shown = await cli("items", "show", item_id)
    assert item_id == json.loads(shown.out)["id"]
    assert 0 == (await cli("items", "delete", item_id)).code
    gone = await cli("items", "show", item_id)
    assert 1 == gone.code
    assert ["error: no such item"] == gone.err.strip().splitlines()


async def test_a_corrupt_image_fails_with_its_reason_and_a_non_zero_exit(
    cli: Cli, tmp_path: Path
) -> None:
    """--wait reports the failed file with the pipeline's reason and exits 1; the rest finish."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.jpg").write_bytes(jpeg(width=80, height=60, seed=400))
    (folder / "broken.jpg").write_bytes(hostile_images.truncated(hostile_images.jpeg(), 0.3))
    result = await cli("upload", str(folder), "--wait")
    assert 1 == result.code, result.out
    assert "searchable 1, failed 1 (broken.jpg:" in result.out


async def test_bad_inputs_are_one_line_errors(cli: Cli, tmp_path: Path) -> None:
    """Bad path, wrong password, unreachable server, expired session: one line, non-zero."""
    missing = await cli("upload", str(tmp_path / "nowhere"))
    wrong = await cli("login", password="Wr0ng-password!")
    closed = await cli("--api", f"http://127.0.0.1:{free_port()}", "login")
    sessions = cli.config / "sessions.json"
    stored = json.loads(sessions.read_text())
    stored[cli.api] |= {"access_token": "expired.token.value", "refresh_token": "revoked"}
    sessions.write_text(json.dumps(stored))
    expired = await cli("items", "list")
    for result, code, words in (
        (missing, 2, "no such file or folder"),
        (wrong, 1, "incorrect email or password"),
        (closed, 1, "cannot reach the server"),
        (expired, 1, "session has expired"),
    ):
        assert code == result.code, result
        lines = result.err.strip().splitlines()
        assert 1 == len(lines), result.err
        assert words in lines[0]
        assert "Traceback" not in result.err


async def test_chat_one_turn_prints_a_reply_and_its_session(cli: Cli) -> None:
    """`chat MESSAGE` streams a reply from the offline agent and names the session."""
    result = await cli("chat", "what is in my collection?")
    assert 0 == result.code, result.err
    assert result.out.strip()
    assert "session " in result.err
