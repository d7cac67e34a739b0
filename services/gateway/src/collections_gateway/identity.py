"""Sign-up, login, refresh, logout and confirmation through Cognito's API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from collections_gateway.schemas import SignupResult, Tokens
from collections_shared.errors import (
    ConflictError,
    ProblemError,
    RequestError,
    ServiceUnavailableError,
    TooManyRequestsError,
    UnauthorizedError,
)
from collections_shared.logging import get_logger

if TYPE_CHECKING:
    from types_aiobotocore_cognito_idp import CognitoIdentityProviderClient

log = get_logger(__name__)

_BAD_LOGIN = "incorrect email or password"


class NotConfirmedError(RequestError):
    status_code = 403
    title = "Forbidden"
    code = "not_confirmed"


def _translate(error: ClientError) -> ProblemError:  # noqa: PLR0911 - one case per error
    """Cognito's error → our problem; the message is Cognito's where it helps the user."""
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    match code:
        case "InvalidPasswordException":
            return RequestError(
                message or "the password does not meet the policy", code="invalid_password"
            )
        case "UsernameExistsException" | "AliasExistsException":
            return ConflictError("an account with this email already exists", code="account_exists")
        case "NotAuthorizedException" | "UserNotFoundException":
            return UnauthorizedError(_BAD_LOGIN, code="invalid_credentials")
        case "UserNotConfirmedException":
            return NotConfirmedError("confirm your account with the code sent to you first")
        case "CodeMismatchException" | "ExpiredCodeException":
            return RequestError(message or "the code is not valid", code="invalid_code")
        case "InvalidParameterException":
            return RequestError(message or "invalid request", code="invalid_parameter")
        case (
            "TooManyRequestsException" | "LimitExceededException" | "TooManyFailedAttemptsException"
        ):
            # The caller is throttled (the service is fine): 429, like our own rate limits.
            return TooManyRequestsError(
                "too many attempts; try again shortly", retry_after=30, code="identity_throttled"
            )
        case _:
            log.warning("cognito_error", code=code, message=message)
            return ServiceUnavailableError("the identity service is unavailable", retry_after=5)


class IdentityService:
    def __init__(
        self,
        cognito: CognitoIdentityProviderClient,
        *,
        pool_id: str,
        client_id: str,
        auto_confirm: bool,
    ) -> None:
        self._cognito = cognito
        self._pool_id = pool_id
        self._client_id = client_id
        self._auto_confirm = auto_confirm

    async def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return await getattr(self._cognito, operation)(**kwargs)
        except ClientError as error:
            raise _translate(error) from error
        except BotoCoreError as error:
            log.warning("cognito_unreachable", error=str(error))
            raise ServiceUnavailableError("the identity service is unavailable") from error

    async def sign_up(self, email: str, password: str) -> SignupResult:
        result = await self._call(
            "sign_up",
            ClientId=self._client_id,
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        confirmed = bool(result.get("UserConfirmed"))
        if self._auto_confirm and not confirmed:
            await self._call("admin_confirm_sign_up", UserPoolId=self._pool_id, Username=email)
            confirmed = True
        return SignupResult(user_id=result["UserSub"], confirmed=confirmed)

    async def confirm(self, email: str, code: str) -> None:
        await self._call(
            "confirm_sign_up", ClientId=self._client_id, Username=email, ConfirmationCode=code
        )

    async def login(self, email: str, password: str) -> Tokens:
        result = await self._call(
            "initiate_auth",
            ClientId=self._client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return _tokens(result)

    async def refresh(self, refresh_token: str) -> Tokens:
        result = await self._call(
            "initiate_auth",
            ClientId=self._client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
        return _tokens(result)

    async def logout(self, access_token: str) -> None:
        """Global sign-out: every refresh token of the user stops working."""
        await self._call("global_sign_out", AccessToken=access_token)


def _tokens(result: dict[str, Any]) -> Tokens:
    auth = result.get("AuthenticationResult")
    if not auth:
        # MFA or another challenge: not offered by this deployment's pool.
        raise UnauthorizedError("additional authentication is required", code="challenge_required")
    return Tokens(
        access_token=auth["AccessToken"],
        id_token=auth["IdToken"],
        refresh_token=auth.get("RefreshToken"),
        expires_in=int(auth.get("ExpiresIn", 3600)),
    )
