"""The caller's account: preferences, and ``DELETE /me`` (everything of theirs, nobody else's)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, delete, get, patch
from litestar.datastructures import State

from collections_gateway.account import AccountService
from collections_gateway.schemas import DeletedAccount, PreferencesChange, PreferencesOut
from collections_gateway.service import ItemsService
from collections_gateway.upstream import Upstream
from collections_shared.auth import Principal

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


@delete(
    "/me",
    status_code=200,
    tags=["account"],
    security=BEARER,
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


@get(
    "/me/preferences",
    tags=["account"],
    security=BEARER,
    summary="The caller's preferences",
    opt={"problems": []},
)
async def get_preferences(principal: Principal, account: AccountService) -> PreferencesOut:
    return await account.preferences(principal.user_id)


@patch(
    "/me/preferences",
    tags=["account"],
    security=BEARER,
    summary="Change the caller's preferences (turning GPS off forgets stored positions)",
    opt={"problems": []},
)
async def change_preferences(
    principal: Principal, account: AccountService, data: PreferencesChange
) -> PreferencesOut:
    return await account.change_preferences(principal.user_id, data)


ACCOUNT_ROUTES = [delete_me, get_preferences, change_preferences]
