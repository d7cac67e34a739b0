"""Errors the CLI reports as one line on stderr (with a non-zero exit), never as a traceback."""

from __future__ import annotations

from typing import Any


class CliError(Exception):
    """Something the user can act on; ``exit_code`` 1 unless a usage problem (2)."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ApiError(CliError):
    """The server answered with an error (a problem+json body where it could)."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    @classmethod
    def from_response(cls, status: int, body: Any) -> ApiError:
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("title") or "")
            code = body.get("code")
            return cls(
                status, detail or f"the server answered {status}", str(code) if code else None
            )
        return cls(status, f"the server answered {status}")
