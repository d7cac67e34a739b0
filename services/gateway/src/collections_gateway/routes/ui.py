"""The web UI: one static page served by the gateway."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.response import File
from litestar.static_files import create_static_files_router

_STATIC = Path(__file__).resolve().parent.parent / "static"


@get("/", include_in_schema=False, cache=False)
async def index() -> File:
    return File(
        _STATIC / "index.html",
        media_type="text/html; charset=utf-8",
        content_disposition_type="inline",
    )


UI_ROUTES = [
    index,
    create_static_files_router(path="/static", directories=[_STATIC], include_in_schema=False),
]
