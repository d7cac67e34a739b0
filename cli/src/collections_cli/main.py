"""``collections``: the command line of a Collections server.

Every command talks to the server at ``--api`` (or ``COLLECTIONS_API``, default the local stack
at http://127.0.0.1:8000). Errors are one line on stderr with a non-zero exit; ``--debug`` shows
the traceback as well.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from collections_cli import browse, chat
from collections_cli.client import ApiClient
from collections_cli.config import TokenStore, api_url, config_dir
from collections_cli.errors import CliError
from collections_cli.upload import Uploader

app = typer.Typer(
    name="collections",
    help="Upload, search, chat with and export your Collections library.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
items_app = typer.Typer(help="List, show and delete items.", no_args_is_help=True)
app.add_typer(items_app, name="items")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
T = TypeVar("T")


class Options:
    api: str | None = None
    debug: bool = False


@app.callback()
def main(
    api: Annotated[str | None, typer.Option(help="Server URL [env: COLLECTIONS_API]")] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks on errors")] = False,
) -> None:
    Options.api, Options.debug = api, debug


def _run(work: Callable[[ApiClient], Awaitable[T]]) -> T:
    """Run one command's async work with a client; turn every error into one line and an exit."""

    async def go() -> T:
        async with ApiClient(api_url(Options.api), TokenStore(config_dir())) as client:
            return await work(client)

    try:
        return asyncio.run(go())
    except CliError as error:
        _fail(error.message, error.exit_code, error)
    except KeyboardInterrupt:
        _fail("interrupted", 130, None)
    except Exception as error:  # noqa: BLE001 - the one place that turns surprises into a line
        _fail(f"unexpected error: {type(error).__name__}: {error}", 1, error)


def _fail(message: str, code: int, error: BaseException | None) -> NoReturn:
    if Options.debug and error is not None:
        traceback.print_exception(error)
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def _credential(variable: str, label: str, *, hide: bool) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CliError(
            f"set {variable} or run in a terminal to be asked for the {label}", exit_code=2
        )
    return str(typer.prompt(label.capitalize(), hide_input=hide))


@app.command()
def login(
    email: Annotated[str | None, typer.Option(help="[env: COLLECTIONS_EMAIL]")] = None,
) -> None:
    """Log in (email and password from COLLECTIONS_EMAIL / COLLECTIONS_PASSWORD, else asked)."""

    async def work(client: ApiClient) -> None:
        address = email or _credential("COLLECTIONS_EMAIL", "email", hide=False)
        password = _credential("COLLECTIONS_PASSWORD", "password", hide=True)
        await client.login(address, password)
        out.print(f"logged in to {client.api} as {address}")

    _run(work)


@app.command()
def logout() -> None:
    """Sign out everywhere and forget the stored tokens."""

    async def work(client: ApiClient) -> None:
        was = await client.logout()
        out.print(f"logged out of {client.api}" if was else f"not logged in to {client.api}")

    _run(work)


@app.command()
def upload(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (recursive)")],
    wait: Annotated[bool, typer.Option(help="Follow each file until searchable or failed")] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=16, help="Uploads at once")] = 4,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most")] = 1800.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Upload images (by content; others are listed as skipped), skipping ones already there."""

    async def work(client: ApiClient) -> bool:
        client.require_session()
        report = await Uploader(client, err, concurrency=concurrency).run(
            paths, wait=wait, within=timeout
        )
        if as_json:
            out.print_json(json.dumps(report.as_json()))
        else:
            out.print(report.summary(wait))
        return report.failed()

    if _run(work):
        raise typer.Exit(1)


@app.command()
def search(
    query: str,
    mode: Annotated[str, typer.Option(help="hybrid, keyword, vector or agentic")] = "hybrid",
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON")] = False,
) -> None:
    """Search the collection: a table of score, summary, date and id."""

    async def work(client: ApiClient) -> None:
        body = await browse.search(client, query, mode=mode, limit=limit)
        if as_json:
            out.print_json(json.dumps(body))
        else:
            browse.search_table(out, body)

    _run(work)


@app.command(name="chat")
def chat_command(
    message: Annotated[
        str | None, typer.Argument(help="One message; omit for a conversation")
    ] = None,
    session: Annotated[str | None, typer.Option(help="Continue this session")] = None,
) -> None:
    """Chat with the agent about your collection (the reply streams)."""

    async def work(client: ApiClient) -> None:
        client.require_session()
        if message:
            session_id = await chat.turn(client, out, message, session)
            err.print(f"session {session_id}", style="dim")
        else:
            await chat.interactive(client, out, session)

    _run(work)


@items_app.command(name="list")
def items_list(
    status: Annotated[str | None, typer.Option(help="Only items with this status")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
) -> None:
    """The newest items."""

    async def work(client: ApiClient) -> None:
        found: list[dict[str, Any]] = []
        async for item in browse.pages(client, **({"status": status} if status else {})):
            found.append(item)
            if len(found) >= limit:
                break
        if as_json:
            for item in found:
                out.print(json.dumps(item), markup=False, soft_wrap=True)
        else:
            browse.items_table(out, found)

    _run(work)


@items_app.command(name="show")
def items_show(item_id: str) -> None:
    """One item with its status, failure, analysis and EXIF facts (JSON)."""
    _run(lambda client: _show(client, item_id))


async def _show(client: ApiClient, item_id: str) -> None:
    out.print_json(json.dumps(await client.json("GET", f"/items/{item_id}")))


@items_app.command(name="delete")
def items_delete(item_ids: list[str]) -> None:
    """Delete items, their analyses and images."""

    async def work(client: ApiClient) -> None:
        for item_id in item_ids:
            await client.request("DELETE", f"/items/{item_id}")
            out.print(f"deleted {item_id}")

    _run(work)


@app.command()
def export(
    out_file: Annotated[
        Path | None, typer.Option("--out", help="JSON lines file (default stdout)")
    ] = None,
    images: Annotated[
        Path | None, typer.Option(help="Also save the originals in this folder")
    ] = None,
) -> None:
    """Every item with its latest analysis as JSON lines (and optionally the original files)."""

    if images is not None:
        images.mkdir(parents=True, exist_ok=True)

    async def work(client: ApiClient) -> int:
        client.require_session()
        if out_file is None:
            return await browse.export(client, sys.stdout, images, err)
        partial = out_file.with_name(out_file.name + ".part")
        with partial.open("w", encoding="utf-8") as handle:
            count = await browse.export(client, handle, images, err)
        partial.replace(out_file)
        return count

    count = _run(work)
    err.print(f"exported {count} item(s)")


def run() -> None:
    app()
