"""``DELETE /me``: everything the caller owns, and nothing of anyone else's."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, delete
from litestar.datastructures import State

from collections_gateway.schemas import DeletedAccount
from collections_gateway.service import ItemsService
from collections_gateway.upstream import Upstream
from collections_shared.auth import Principal


@delete(
    "/me",
    status_code=200,
    tags=["account"],
    security=[{"BearerToken": []}],
    summary="Delete all of the caller's items, images, analyses and chat sessions",
    opt={"problems": []},
)
async def delete_me(
    request: Request[Any, Any, State], principal: Principal, items: ItemsService, chat: Upstream
) -> DeletedAccount:
    deleted_items, objects = await items.delete_everything(principal.user_id)
    headers = {"authorization": request.headers.get("authorization", "")}
    response = await chat.call("DELETE", "/chat/sessions", headers)
    sessions = 0
    if response.status_code == 200:
        sessions = int(msgspec.json.decode(response.body).get("deleted", 0))
    return DeletedAccount(items=deleted_items, objects=objects, chat_sessions=sessions)
