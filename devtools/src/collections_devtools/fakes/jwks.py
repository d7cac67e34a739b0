"""A local identity provider for tests: RSA keys, a JWKS served over real HTTP, token minting.

It issues tokens shaped like Cognito's access and ID tokens, so the verifier is tested against
the same wire format it meets in production, including key rotation.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        return cls(
            kid or uuid.uuid4().hex, rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(
            jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key())
        )
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}


@dataclass
class FakeIdentityProvider:
    """Mints tokens and serves the JWKS of its current keys at ``jwks_url``."""

    issuer: str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"
    client_id: str = "test-client"
    keys: list[SigningKey] = field(default_factory=lambda: [SigningKey.generate()])
    jwks_url: str = ""
    jwks_requests: int = 0

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self.keys]}

    def rotate(self, *, keep_old: bool) -> SigningKey:
        """Add a new signing key (first in the list); drop the old ones unless ``keep_old``."""
        new = SigningKey.generate()
        self.keys = [new, *self.keys] if keep_old else [new]
        return new

    def claims(self, sub: str, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub,
            "iss": self.issuer,
            "client_id": self.client_id,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
            "jti": uuid.uuid4().hex,
            "username": sub,
        }
        claims.update(overrides)
        return {key: value for key, value in claims.items() if value is not None}

    def token(
        self,
        sub: str = "user-a",
        *,
        key: SigningKey | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        signing = key or self.keys[0]
        return jwt.encode(
            self.claims(sub, **claims),
            signing.private_key,
            algorithm="RS256",
            headers={"kid": signing.kid, **(headers or {})},
        )


@contextmanager
def serve_jwks(provider: FakeIdentityProvider) -> Iterator[FakeIdentityProvider]:
    """Serve ``provider``'s JWKS over HTTP on a free local port for the duration of the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.jwks_requests += 1
            body = json.dumps(provider.jwks()).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    provider.jwks_url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
