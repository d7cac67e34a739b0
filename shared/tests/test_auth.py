"""Access-token verification against a JWKS served over HTTP, including the usual JWT attacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from collections_devtools.fakes.jwks import FakeIdentityProvider, SigningKey, serve_jwks
from collections_shared.auth import PUBLIC_MESSAGE, TokenVerifier, VerifierConfig
from collections_shared.errors import UnauthorizedError


@pytest.fixture(name="idp")
def fx_idp() -> Iterator[FakeIdentityProvider]:
    with serve_jwks(FakeIdentityProvider()) as provider:
        yield provider


@pytest.fixture(name="http")
async def fx_http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def make_verifier(
    idp: FakeIdentityProvider, http: httpx.AsyncClient, *, max_age: int = 300, cooldown: int = 30
) -> TokenVerifier:
    config = VerifierConfig(
        issuer=idp.issuer,
        client_id=idp.client_id,
        jwks_url=idp.jwks_url,
        jwks_max_age_seconds=max_age,
        unknown_kid_cooldown_seconds=cooldown,
    )
    return TokenVerifier(config, http)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, object], claims: dict[str, object], signature: str = "") -> str:
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), signature])


async def assert_rejected(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(UnauthorizedError) as caught:
        await verifier.verify(token)
    assert PUBLIC_MESSAGE == caught.value.detail


async def test_valid_access_token_yields_its_sub(
    idp: FakeIdentityProvider, http: httpx.AsyncClient
) -> None:
    """A well-formed access token of our pool and client is accepted and names its user."""
    principal = await make_verifier(idp, http).verify(idp.token("alice"))
    assert "alice" == principal.user_id


async def test_edited_payload_with_old_signature_is_rejected(
    idp: FakeIdentityProvider, http: httpx.AsyncClient
) -> None:
    """Changing the sub while keeping the original signature fails signature verification."""
    header, _, signature = idp.token("alice").split(".")
    tampered = b64(json.dumps(idp.claims("mallory")).encode())
    await assert_rejected(make_verifier(idp, http), f"{header}.{tampered}.{signature}")


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", ["", "e30", "AAAA"])
async def test_alg_none_in_any_spelling_is_rejected(
    idp: FakeIdentityProvider, http: httpx.AsyncClient, alg: str, signature: str
) -> None:
    """Unsigned tokens are refused whatever the spelling of ``none`` and the signature part."""
    token = forge(
        {"alg": alg, "typ": "JWT", "kid": idp.keys[0].kid}, idp.claims("mallory"), signature
    )
    await assert_rejected(make_verifier(idp, http), token)


async def test_hs256_signed_with_the_public_key_is_rejected(
    idp: FakeIdentityProvider, http: httpx.AsyncClient
) -> None:
    """The RS256→HS256 confusion attack (HMAC keyed with the public PEM) does not verify."""
    pem = (
        idp.keys[0]
        .private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": idp.keys[0].kid}).encode())
    payload = b64(json.dumps(idp.claims("mallory")).encode())
    mac = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    await assert_rejected(make_verifier(idp, http), f"{header}.{payload}.{b64(mac)}")


@pytest.mark.parametrize(
    "kid",
    ["../../../../dev/null", "' OR '1'='1' --", "key; DROP TABLE items;", "unknown-kid", "x" * 300],
)
async def test_injected_or_unknown_kid_is_rejected(
    idp: FakeIdentityProvider, http: httpx.AsyncClient, kid: str
) -> None:
    """A kid is only ever a map lookup: paths, SQL and unknown ids are all refused."""
    attacker = SigningKey.generate(kid=kid)
    await assert_rejected(make_verifier(idp, http), idp.token("mallory", key=attacker))


async def test_embedded_jwk_and_jku_headers_are_ignored(
    idp: FakeIdentityProvider, http: httpx.AsyncClient
) -> None:
    """A token bringing its own key (jwk) or a key URL (jku/x5u) is checked against ours only."""
    attacker = SigningKey.generate(kid=idp.keys[0].kid)
    headers = {
        "jwk": attacker.public_jwk(),
        "jku": "http://127.0.0.1:9/attacker-jwks.json",
        "x5u": "http://127.0.0.1:9/cert.pem",
    }
    await assert_rejected(
        make_verifier(idp, http), idp.token("mallory", key=attacker, headers=headers)
    )


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": int(time.time()) - 120}, id="expired"),
        pytest.param({"nbf": int(time.time()) + 600}, id="nbf-in-future"),
        pytest.param({"iat": int(time.time()) + 600}, id="iat-in-future"),
        pytest.param({"exp": None}, id="missing-exp"),
        pytest.param(
            {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}, id="other-pool"
        ),
        pytest.param({"token_use": "id", "aud": "test-client", "client_id": None}, id="id-token"),
        pytest.param({"client_id": "another-app-client"}, id="other-client"),
        pytest.param({"sub": ""}, id="empty-sub"),
    ],
)
async def test_claims_that_do_not_fit_are_rejected(
    idp: FakeIdentityProvider, http: httpx.AsyncClient, claims: dict[str, object]
) -> None:
    """Expiry, not-before, issuer, token use and client id are all enforced."""
    overrides = dict(claims)
    sub = str(overrides.pop("sub", "mallory"))
    await assert_rejected(make_verifier(idp, http), idp.token(sub, **overrides))


async def test_expiry_within_leeway_is_accepted(
    idp: FakeIdentityProvider, http: httpx.AsyncClient
) -> None:
    """Clock skew up to the 60 s leeway does not lock a user out."""
    token = idp.token("alice", exp=int(time.time()) - 30)
    assert "alice" == (await make_verifier(idp, http).verify(token)).user_id


async def test_rotated_key_is_accepted_without_restart(
    idp: FakeIdentityProvider, http: httpx.AsyncClient
) -> None:
    """After the pool adds a key, tokens signed with it verify on the next kid miss."""
    verifier = make_verifier(idp, http, cooldown=0)
    await verifier.verify(idp.token("alice"))
    new_key = idp.rotate(keep_old=True)
    assert "alice" == (await verifier.verify(idp.token("alice", key=new_key))).user_id


async def test_removed_key_is_rejected_after_cache_max_age(
    idp: FakeIdentityProvider, http: httpx.AsyncClient
) -> None:
    """Once a key leaves the JWKS and the cache ages out, its tokens stop working."""
    verifier = make_verifier(idp, http, max_age=0)
    old_key = idp.keys[0]
    await verifier.verify(idp.token("alice"))
    idp.rotate(keep_old=False)
    await assert_rejected(verifier, idp.token("alice", key=old_key))


async def test_unknown_kids_refetch_the_jwks_at_most_once_per_cooldown(
    idp: FakeIdentityProvider, http: httpx.AsyncClient
) -> None:
    """A flood of random kids costs one JWKS request, not one per token."""
    verifier = make_verifier(idp, http, cooldown=30)
    await verifier.verify(idp.token("alice"))
    before = idp.jwks_requests
    for index in range(20):
        await assert_rejected(
            verifier, idp.token("m", key=SigningKey.generate(kid=f"random-{index}"))
        )
    assert before == idp.jwks_requests


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwdw==", "Bearer not.a.jwt", "Bearer a.b"],
)
async def test_malformed_authorization_headers_are_rejected(
    idp: FakeIdentityProvider, http: httpx.AsyncClient, header: str | None
) -> None:
    """Missing schemes, empty tokens and garbage are all a plain 401."""
    with pytest.raises(UnauthorizedError):
        await make_verifier(idp, http).verify_header(header)


def test_pyjwt_refuses_none_even_when_asked_to_decode_without_key() -> None:
    """Guard on the library: PyJWT does not treat ``none`` as an acceptable RS256 token."""
    token = forge({"alg": "none"}, {"sub": "x"})
    with pytest.raises(jwt.PyJWTError):
        jwt.decode(token, key="", algorithms=["RS256"])


async def test_remembered_token_still_expires(
    idp: FakeIdentityProvider, http: httpx.AsyncClient
) -> None:
    """A token verified once is not accepted again after its expiry (plus leeway)."""
    config = VerifierConfig(
        issuer=idp.issuer, client_id=idp.client_id, jwks_url=idp.jwks_url, leeway_seconds=0
    )
    verifier = TokenVerifier(config, http)
    token = idp.token("alice", exp=int(time.time()) + 1)
    await verifier.verify(token)
    time.sleep(2.1)
    await assert_rejected(verifier, token)


async def test_remembered_token_dies_with_its_key(
    idp: FakeIdentityProvider, http: httpx.AsyncClient
) -> None:
    """The same token string, verified before its key left the JWKS, is refused afterwards."""
    verifier = make_verifier(idp, http, max_age=0)
    token = idp.token("alice")
    assert "alice" == (await verifier.verify(token)).user_id
    idp.rotate(keep_old=False)
    await assert_rejected(verifier, token)
