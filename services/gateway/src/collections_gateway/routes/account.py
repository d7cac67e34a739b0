"""The caller's account: preferences, and ``DELETE /me`` (everything of theirs, nobody else's)."""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, patch
from litestar.datastructures import State

from collections_gateway.account import AccountService
from collections_gateway.schemas import DeletedAccount, PreferencesChange, PreferencesOut
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
    request: Request[Any, Any, State], principal: Principal, account: AccountService
) -> DeletedAccount:
    return await account.delete_everything(
        principal.user_id, request.headers.get("authorization", "")
    )


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
