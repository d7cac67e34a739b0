"""The web UI: one static page (plus its script and style) served by the gateway."""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get
from litestar.static_files import create_static_files_router

_STATIC = Path(__file__).resolve().parent.parent / "static"
_INDEX = (_STATIC / "index.html").read_bytes()

# The page only runs its own script and style; images come from presigned S3 URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob: http: https:; connect-src 'self'; "
    "script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


@get("/", include_in_schema=False, cache=False)
async def index() -> Response[bytes]:
    return Response(
        _INDEX,
        media_type="text/html; charset=utf-8",
        headers={"content-security-policy": CONTENT_SECURITY_POLICY, "cache-control": "no-cache"},
    )


UI_ROUTES = [
    index,
    create_static_files_router(path="/static", directories=[_STATIC], include_in_schema=False),
]
