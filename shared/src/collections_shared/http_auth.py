"""The verified caller of an HTTP service, as a Litestar dependency."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request
from litestar.datastructures import State

from collections_shared.auth import Principal, TokenVerifier


async def verified_principal(request: Request[Any, Any, State]) -> Principal:
    """Verify the bearer token with the app's ``state.verifier``; 401 otherwise."""
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify_header(request.headers.get("authorization"))
    structlog.contextvars.bind_contextvars(user_id=principal.user_id)
    return principal
