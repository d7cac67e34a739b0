"""The web UI: one page and its ES modules (``static/``), served by the gateway.

The page is rendered once at import: the accepted image types come from
``collections_shared.domain.media``, so the file picker and the upload hint cannot drift from
what the gateway accepts.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from litestar import Response, get
from litestar.static_files import create_static_files_router

from collections_shared.domain.media import ALLOWED_TYPES

_STATIC = Path(__file__).resolve().parent.parent / "static"

# The page only runs its own scripts and style; images come from presigned S3 URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob: http: https:; connect-src 'self'; "
    "script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def render_index(template: str) -> bytes:
    """The page with the accepted types filled in; a placeholder missing is a packaging error."""
    values = {
        "{{accepted_types}}": ",".join(ALLOWED_TYPES),
        "{{accepted_names}}": ", ".join(mime.split("/")[1].upper() for mime in ALLOWED_TYPES),
    }
    for placeholder, value in values.items():
        if placeholder not in template:
            raise RuntimeError(f"static/index.html lacks {placeholder}")
        template = template.replace(placeholder, escape(value))
    return template.encode()


_INDEX = render_index((_STATIC / "index.html").read_text(encoding="utf-8"))
_SHARED = (_STATIC / "shared.html").read_bytes()


@get("/", include_in_schema=False, cache=False)
async def index() -> Response[bytes]:
    return Response(
        _INDEX,
        media_type="text/html; charset=utf-8",
        headers={"content-security-policy": CONTENT_SECURITY_POLICY, "cache-control": "no-cache"},
    )


@get("/shared", include_in_schema=False, cache=False)
async def shared_page() -> Response[bytes]:
    """A shared album's page: its token is in the fragment, so no request or log carries it."""
    return Response(
        _SHARED,
        media_type="text/html; charset=utf-8",
        headers={
            "content-security-policy": CONTENT_SECURITY_POLICY,
            "cache-control": "no-cache",
            "referrer-policy": "no-referrer",
        },
    )


UI_ROUTES = [
    index,
    shared_page,
    create_static_files_router(path="/static", directories=[_STATIC], include_in_schema=False),
]
