"""A shared album as its visitors see it: no login, thumbnails and previews only.

Every failure is the same 404, whatever was wrong with the token or the item, so a response
never tells a guesser anything. The page at ``/shared`` reads the token from the URL's fragment,
which browsers never send to a server.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Response, get
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from collections_gateway.curation_schemas import SharedAlbum, SharedItem
from collections_gateway.sharing import CONTENT_TYPES, Derivative, SharedLinks
from collections_shared.openapi import PROBLEMS_OPT

Token = Annotated[str, Parameter(description="The link's token (from POST /albums/{id}/share).")]
_PUBLIC = {"tags": ["shared"], "security": [], "opt": {PROBLEMS_OPT: (429,)}}
_CACHE = {"cache-control": "private, max-age=300", "referrer-policy": "no-referrer"}


@get(
    "/shared/{token:str}",
    summary="A shared album and a page of its items (no login)",
    **_PUBLIC,  # type: ignore[arg-type]
)
async def shared_album(
    shared_links: SharedLinks,
    token: Token,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Parameter(max_length=200)] = None,
) -> Response[SharedAlbum]:
    album = await shared_links.album(token, limit=limit, cursor=cursor)
    return Response(album, headers=_CACHE | {"cache-control": "no-store"})


@get(
    "/shared/{token:str}/items/{item_id:uuid}",
    summary="One item of a shared album (no login)",
    **_PUBLIC,  # type: ignore[arg-type]
)
async def shared_item(
    shared_links: SharedLinks, token: Token, item_id: uuid.UUID
) -> Response[SharedItem]:
    item = await shared_links.item(token, item_id)
    return Response(item, headers=_CACHE | {"cache-control": "no-store"})


def _image_route(kind: Derivative) -> object:
    @get(
        f"/shared/{{token:str}}/items/{{item_id:uuid}}/{kind}",
        summary=f"The {kind} of an item of a shared album (no login)",
        media_type=CONTENT_TYPES[kind],
        responses={
            200: ResponseSpec(
                data_container=bytes,
                media_type=CONTENT_TYPES[kind],
                description=f"The {kind} image",
                generate_examples=False,
            )
        },
        name=f"shared_{kind}",
        **_PUBLIC,  # type: ignore[arg-type]
    )
    async def image(shared_links: SharedLinks, token: Token, item_id: uuid.UUID) -> Response[bytes]:
        data = await shared_links.image(token, item_id, kind)
        return Response(data, media_type=CONTENT_TYPES[kind], headers=_CACHE)

    return image


SHARED_ROUTES = [shared_album, shared_item, _image_route("thumbnail"), _image_route("preview")]
