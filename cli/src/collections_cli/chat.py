"""``collections chat``: one turn, or an interactive session, with the reply streamed."""

from __future__ import annotations

import json
from typing import Any

from httpx_sse import EventSource
from rich.console import Console

from collections_cli.client import ApiClient
from collections_cli.errors import CliError


async def turn(client: ApiClient, console: Console, message: str, session_id: str | None) -> str:
    """Send ``message``; print the reply as it streams and its citations; the session id."""
    body: dict[str, Any] = {
        "message": message,
        **({"session_id": session_id} if session_id else {}),
    }
    done: dict[str, Any] = {}
    citations: list[dict[str, Any]] = []
    async with client.stream("POST", "/chat/stream", json=body, timeout=None) as response:
        async for event in EventSource(response).aiter_sse():
            data = json.loads(event.data) if event.data else {}
            if event.event == "token":
                console.print(data.get("text", ""), end="", highlight=False, markup=False)
            elif event.event == "citations":
                citations = list(data.get("citations") or [])
            elif event.event == "error":
                raise CliError(f"chat failed: {data.get('message') or data.get('code')}")
            elif event.event == "done":
                done = data
    console.print()
    for citation in citations:
        label = citation.get("url") or citation.get("item_id")
        console.print(
            f"  [{label}] {citation.get('summary') or citation.get('title') or ''}",
            style="dim",
            markup=False,
        )
    session = str(done.get("session_id") or session_id or "")
    if not session:
        raise CliError("the chat stream ended without an answer")
    return session


async def interactive(client: ApiClient, console: Console, session_id: str | None) -> None:
    console.print("chat with your collection; an empty line or Ctrl-D ends", style="dim")
    while True:
        try:
            message = console.input("[bold]you>[/bold] ").strip()
        except EOFError:
            console.print()
            return
        if not message or message in {"/exit", "/quit"}:
            return
        session_id = await turn(client, console, message, session_id)
