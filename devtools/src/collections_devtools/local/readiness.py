"""Waiting for the stack's parts to answer: PostgreSQL connections and HTTP endpoints."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx


class StackError(Exception):
    """The stack cannot start; the message says what to do."""


async def wait_for_postgres(dsn: str, within: float = 60) -> None:
    """Until PostgreSQL at ``dsn`` accepts a connection; `StackError` after ``within`` seconds."""
    import asyncpg  # noqa: PLC0415 - only the stack and its tests need it here

    deadline = time.monotonic() + within
    while True:
        try:
            connection = await asyncpg.connect(dsn, timeout=2)
        except (OSError, asyncpg.PostgresError) as error:
            if time.monotonic() > deadline:
                msg = f"PostgreSQL did not accept connections within {within:.0f}s: {error}"
                raise StackError(msg) from error
            await asyncio.sleep(0.2)
        else:
            await connection.close()
            return


def _answers(status: int) -> bool:
    return status < 500


async def wait_for_http(
    url: str, what: str, within: float, ready: Callable[[int], bool] = _answers
) -> None:
    """Until a GET of ``url`` gets a status that is ``ready`` (any but 5xx by default)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            try:
                if ready((await http.get(url)).status_code):
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                msg = f"{what} did not answer at {url} within {within:.0f}s"
                raise StackError(msg)
            await asyncio.sleep(0.2)
