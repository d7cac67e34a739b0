"""Account endpoints backed by Cognito; the only routes that need no token (but logout)."""

from __future__ import annotations

from litestar import Controller, post

from collections_gateway.identity import IdentityService
from collections_gateway.schemas import (
    ConfirmRequest,
    Credentials,
    RefreshRequest,
    SignupResult,
    Tokens,
)
from collections_shared.auth import Principal


class AuthController(Controller):
    """Each call goes to Cognito, which may throttle the caller: 429 with Retry-After."""

    path = "/auth"
    tags = ["auth"]

    @post(
        "/signup",
        status_code=201,
        summary="Create an account (confirmed at once locally)",
        opt={"problems": [400, 409, 429]},
    )
    async def signup(self, identity: IdentityService, data: Credentials) -> SignupResult:
        return await identity.sign_up(data.email, data.password)

    @post(
        "/confirm",
        status_code=204,
        summary="Confirm an account with the emailed code",
        opt={"problems": [400, 401, 403, 409, 429]},
    )
    async def confirm(self, identity: IdentityService, data: ConfirmRequest) -> None:
        await identity.confirm(data.email, data.code)

    @post(
        "/login",
        status_code=200,
        summary="Exchange email and password for tokens",
        opt={"problems": [400, 401, 403, 429]},
    )
    async def login(self, identity: IdentityService, data: Credentials) -> Tokens:
        return await identity.login(data.email, data.password)

    @post(
        "/refresh",
        status_code=200,
        summary="New access and ID tokens from a refresh token",
        opt={"problems": [400, 401, 429]},
    )
    async def refresh(self, identity: IdentityService, data: RefreshRequest) -> Tokens:
        return await identity.refresh(data.refresh_token)

    @post(
        "/logout",
        status_code=204,
        summary="Sign out everywhere (revokes refresh tokens)",
        security=[{"BearerToken": []}],
        opt={"problems": []},
    )
    async def logout(self, identity: IdentityService, principal: Principal) -> None:
        await identity.logout(principal.token)
