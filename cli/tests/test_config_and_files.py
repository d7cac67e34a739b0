"""The CLI's local pieces: where tokens are kept, which files count as images, retry waits."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from collections_cli.client import MAX_RETRY_WAIT, retry_after
from collections_cli.config import Session, TokenStore, api_url
from collections_cli.errors import CliError
from collections_cli.files import collect
from collections_devtools.testing.images import jpeg, png


def test_tokens_are_private_and_kept_per_server(tmp_path: Path) -> None:
    """The folder is 0700, the file 0600, and a session is only found for its own server."""
    store = TokenStore(tmp_path / "config")
    store.save("http://a.example", Session("me@example.com", "access", "refresh", 123.0))
    assert stat.S_IMODE((tmp_path / "config").stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.load("http://a.example") == Session("me@example.com", "access", "refresh", 123.0)
    assert store.load("http://b.example") is None
    assert store.forget("http://a.example")
    assert store.load("http://a.example") is None


def test_a_damaged_token_file_is_one_clear_error(tmp_path: Path) -> None:
    """Garbage in the sessions file says which file to delete instead of a traceback."""
    store = TokenStore(tmp_path)
    store.path.write_text("{not json")
    with pytest.raises(CliError, match=r"sessions\.json"):
        store.load("http://a.example")


def test_server_url_comes_from_the_option_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--api wins over COLLECTIONS_API, which wins over the local default; junk is refused."""
    monkeypatch.setenv("COLLECTIONS_API", "https://env.example/")
    assert "https://opt.example" == api_url("https://opt.example/")
    assert "https://env.example" == api_url(None)
    monkeypatch.delenv("COLLECTIONS_API")
    assert "http://127.0.0.1:8000" == api_url(None)
    with pytest.raises(CliError):
        api_url("ftp://x")


def test_images_are_recognised_by_content_not_name(tmp_path: Path) -> None:
    """A JPEG named .txt is an image, a text file named .jpg is skipped, folders recurse."""
    (tmp_path / "nested").mkdir()
    (tmp_path / "photo.txt").write_bytes(jpeg(seed=1))
    (tmp_path / "nested" / "icon.png").write_bytes(png())
    (tmp_path / "notes.jpg").write_text("not an image")
    images, skipped = collect([tmp_path])
    assert {"photo.txt", "icon.png"} == {image.path.name for image in images}
    assert ["notes.jpg"] == [entry.path.name for entry in skipped]
    assert {"image/jpeg", "image/png"} == {image.mime for image in images}


def test_a_missing_path_stops_before_anything_is_uploaded(tmp_path: Path) -> None:
    """Naming a path that does not exist is a usage error (exit 2)."""
    with pytest.raises(CliError) as caught:
        collect([tmp_path, tmp_path / "missing"])
    assert 2 == caught.value.exit_code
    assert "missing" in caught.value.message


def test_retry_waits_follow_the_server_within_a_cap() -> None:
    """Retry-After seconds are honoured up to the cap; without one the wait grows per attempt."""

    def answer(headers: dict[str, str]) -> httpx.Response:
        return httpx.Response(429, headers=headers)

    assert 7.0 == retry_after(answer({"retry-after": "7"}), 0)
    assert MAX_RETRY_WAIT == retry_after(answer({"retry-after": "86400"}), 0)
    assert 4.0 == retry_after(answer({}), 2)
