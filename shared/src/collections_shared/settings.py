"""Settings from the environment: one frozen msgspec Struct per service, validated at start-up.

Environment variables are strings only, so they are converted with ``strict=False`` (msgspec's
documented lax mode). A bad value stops the process with one line naming the variable and exit
code 2, before anything connects anywhere.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Annotated, NoReturn, TypeVar

import msgspec

from collections_shared.auth import VerifierConfig
from collections_shared.topology import VISIBILITY_TIMEOUT_SECONDS

SettingsT = TypeVar("SettingsT", bound=msgspec.Struct)

CONFIG_ERROR_EXIT_CODE = 2

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]


class ConfigError(Exception):
    """The environment does not describe a valid configuration."""


class CommonSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Settings every service shares; read without a prefix."""

    database_url: str = "postgresql://collections_app:collections_app@127.0.0.1:5433/collections"
    """DSN of the application role (not the owner: row-level security applies to it)."""
    aws_endpoint_url: str | None = None
    """Endpoint of the AWS emulator; unset means real AWS."""
    aws_region: str = "us-east-1"
    bucket: str = "collections-images"
    event_bus: str = "collections"
    log_level: str = "info"
    log_format: str = "auto"
    """``json``, ``console`` or ``auto`` (console on a terminal, JSON otherwise)."""
    cognito_user_pool_id: str = ""
    cognito_client_id: str = ""
    cognito_issuer: str = ""
    """Defaults to ``https://cognito-idp.<region>.amazonaws.com/<pool id>``."""
    cognito_jwks_url: str = ""
    """Defaults to the issuer's JWKS, or the emulator's copy when AWS_ENDPOINT_URL is set."""

    def verifier_config(self) -> VerifierConfig:
        """How access tokens of this deployment's user pool are verified."""
        issuer = self.cognito_issuer or (
            f"https://cognito-idp.{self.aws_region}.amazonaws.com/{self.cognito_user_pool_id}"
        )
        emulator = os.environ.get("AWS_ENDPOINT_URL_COGNITO_IDP") or self.aws_endpoint_url
        jwks_url = self.cognito_jwks_url or (
            f"{emulator.rstrip('/')}/{self.cognito_user_pool_id}/.well-known/jwks.json"
            if emulator
            else f"{issuer}/.well-known/jwks.json"
        )
        return VerifierConfig(issuer=issuer, client_id=self.cognito_client_id, jwks_url=jwks_url)


def _collect(env: Mapping[str, str], fields: tuple[str, ...], prefix: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in fields:
        for variable in (f"{prefix}{name}".upper(), name.upper()):
            if variable in env:
                values[name] = env[variable]
                break
    return values


def _variable_for(path: str, prefix: str) -> str:
    field = path.removeprefix("$.").split(".", 1)[0].split("[", 1)[0]
    return f"{prefix}{field}".upper() if prefix else field.upper()


def parse_settings(
    cls: type[SettingsT], env: Mapping[str, str] | None = None, prefix: str = ""
) -> SettingsT:
    """Build ``cls`` from ``env``; a prefixed variable wins over the unprefixed one.

    Raises:
        ConfigError: naming the offending variable and what is wrong with it.
    """
    source = os.environ if env is None else env
    values = _collect(source, cls.__struct_fields__, prefix)
    try:
        return msgspec.convert(values, cls, strict=False)
    except msgspec.ValidationError as error:
        message = str(error)
        variable = message.rsplit("at `", 1)[-1].rstrip("`") if "at `" in message else ""
        name = _variable_for(variable, prefix) if variable else ""
        reason = message.split(" - at `", 1)[0]
        if reason.startswith("Object missing required field"):
            missing = reason.rsplit("`", 2)[-2]
            name = _variable_for(missing, prefix)
            reason = "is required"
        raise ConfigError(f"invalid configuration: {name or 'environment'}: {reason}") from error


def load_settings(cls: type[SettingsT], prefix: str = "") -> SettingsT:
    """Like :func:`parse_settings` but exits the process (code 2) on a bad configuration."""
    try:
        return parse_settings(cls, prefix=prefix)
    except ConfigError as error:
        fail_configuration(str(error))


def fail_configuration(message: str) -> NoReturn:
    """Print one line to stderr and exit with the configuration-error code."""
    sys.stderr.write(f"{message}\n")
    raise SystemExit(CONFIG_ERROR_EXIT_CODE)


class WorkerSettings(CommonSettings, frozen=True, kw_only=True):
    """Settings of the SQS worker services (ingest, analyzer, embedder)."""

    host: str = "127.0.0.1"
    port: Port = 8001
    queue_url: str = ""
    """The worker's queue; resolved from ``queue_name`` when unset."""
    queue_name: str = ""
    concurrency: PositiveInt = 4
    visibility_timeout: PositiveInt = VISIBILITY_TIMEOUT_SECONDS
    """Must match the queue's (``collections_shared.topology``); the heartbeat extends it."""
    max_receive_count: PositiveInt = 5
    """Must match the queue's redrive policy: the last attempt marks the item failed."""
    wait_seconds: Annotated[int, msgspec.Meta(ge=0, le=20)] = 10
    """Long-poll length; a stopping worker waits for its last poll, so this bounds shutdown."""
    drain_timeout_seconds: PositiveInt = 30
