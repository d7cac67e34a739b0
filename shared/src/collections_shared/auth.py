"""Verification of Cognito access tokens (RS256 JWTs) against the user pool's JWKS.

Every HTTP service verifies the bearer token itself; none trusts a bare user header. The rules
follow AWS's "Verifying a JSON Web Token" guide and the usual JWT attacks:

- the algorithm is pinned to RS256 (``none``, HS256-with-the-public-key and friends fail);
- the key is looked up by ``kid`` in the pool's JWKS only; ``jku``/``jwk``/``x5u`` headers are
  never read, so a token cannot bring its own key;
- an unknown ``kid`` triggers at most one JWKS re-fetch per cooldown (key rotation works without
  a restart, and random kids cannot hammer the JWKS endpoint);
- keys expire with the cache, so a key removed from the JWKS stops working;
- ``iss`` must match exactly, ``token_use`` must be ``access``, ``client_id`` must be ours, and
  ``exp``/``nbf``/``iat`` are checked with a small leeway;
- a token that passed is remembered until it expires, and only while the key that signed it is
  still the pool's key for its ``kid`` (so rotation and removal apply to cached tokens too).

Every failure raises :class:`UnauthorizedError` with the same public message; the reason is only
logged.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from collections_shared.errors import UnauthorizedError
from collections_shared.logging import get_logger

log = get_logger(__name__)

PUBLIC_MESSAGE = "missing or invalid access token"
_MAX_CACHED_TOKENS = 10_000
_MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the Cognito ``sub`` is the tenant id everywhere."""

    user_id: str
    token: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class VerifierConfig:
    issuer: str
    """``https://cognito-idp.<region>.amazonaws.com/<pool_id>`` (or the emulator's equivalent)."""
    client_id: str
    jwks_url: str
    leeway_seconds: int = 60
    jwks_max_age_seconds: int = 300
    unknown_kid_cooldown_seconds: int = 30


class JwksCache:
    """Public keys by ``kid``, fetched from the JWKS URL and refreshed on age or a kid miss."""

    def __init__(self, config: VerifierConfig, http: httpx.AsyncClient) -> None:
        self._config = config
        self._http = http
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str) -> Any | None:
        """The key for ``kid``, or None if the pool does not have it."""
        now = time.monotonic()
        if now - self._fetched_at > self._config.jwks_max_age_seconds:
            await self._refresh(now, reason="expired")
        elif (
            kid not in self._keys
            and now - self._fetched_at > self._config.unknown_kid_cooldown_seconds
        ):
            await self._refresh(now, reason="unknown_kid")
        return self._keys.get(kid)

    async def _refresh(self, requested_at: float, *, reason: str) -> None:
        async with self._lock:
            if self._fetched_at >= requested_at:
                return  # another caller refreshed while we waited
            try:
                response = await self._http.get(self._config.jwks_url, timeout=5)
                response.raise_for_status()
                self._keys = _parse_jwks(response.json())
            except (httpx.HTTPError, ValueError) as error:
                # Keep serving the keys we have; try again after the cooldown.
                log.warning("jwks_fetch_failed", error=str(error), reason=reason)
            self._fetched_at = time.monotonic()
            log.info("jwks_refreshed", keys=len(self._keys), reason=reason)


def _parse_jwks(document: Any) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    for entry in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        if entry.get("alg", "RS256") != "RS256" or entry.get("use", "sig") != "sig":
            continue
        kid = entry.get("kid")
        if isinstance(kid, str):
            keys[kid] = jwt.PyJWK(entry, algorithm="RS256").key
    return keys


class TokenVerifier:
    """Turns an ``Authorization`` header value into a :class:`Principal`, or raises."""

    def __init__(self, config: VerifierConfig, http: httpx.AsyncClient) -> None:
        self._config = config
        self._jwks = JwksCache(config, http)
        # An RS256 check costs ~0.1 ms; a client sends the same token with every request.
        self._verified: dict[str, tuple[Principal, str, Any]] = {}

    async def verify_header(self, authorization: str | None) -> Principal:
        """Verify ``Bearer <token>``."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _reject("no_bearer_token")
        return await self.verify(token.strip())

    async def verify(self, token: str) -> Principal:
        """Verify a raw access token."""
        if len(token) > _MAX_TOKEN_LENGTH:
            raise _reject("token_too_long")
        cached = self._verified.get(token)
        if cached is not None:
            principal, kid, key = cached
            # The signature was checked once; what can change is time and the pool's keys.
            if time.time() <= principal.expires_at + self._config.leeway_seconds and (
                await self._jwks.key_for(kid) is key
            ):
                return principal
            del self._verified[token]
        principal, kid, key = await self._verify_signed(token)
        if len(self._verified) >= _MAX_CACHED_TOKENS:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = (principal, kid, key)
        return principal

    async def _verify_signed(self, token: str) -> tuple[Principal, str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise _reject("malformed_header") from error
        kid = header.get("kid")
        if header.get("alg") != "RS256" or not isinstance(kid, str) or len(kid) > 256:
            raise _reject("bad_alg_or_kid")
        key = await self._jwks.key_for(kid)
        if key is None:
            raise _reject("unknown_kid")
        claims = self._decode(token, key)
        principal = Principal(
            user_id=claims["sub"],
            token=token,
            expires_at=int(claims["exp"]),
        )
        return principal, kid, key

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                issuer=self._config.issuer,
                leeway=self._config.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise _reject(type(error).__name__) from error
        if claims.get("token_use") != "access":
            raise _reject("not_an_access_token")
        if claims.get("client_id") != self._config.client_id:
            raise _reject("wrong_client")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise _reject("bad_sub")
        return claims


def _reject(reason: str) -> UnauthorizedError:
    log.info("token_rejected", reason=reason)
    return UnauthorizedError(PUBLIC_MESSAGE)
