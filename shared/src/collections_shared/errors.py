"""A small error hierarchy shared by the services.

Client errors become RFC 9457 problem+json responses with a 4xx status. Worker errors say whether
trying again can help: a transient error leaves the message for redelivery (with backoff), a
permanent one marks the item ``failed`` with its reason at once.
"""

from __future__ import annotations


class CollectionsError(Exception):
    """Base of every error this project raises on purpose."""


class ClientError(CollectionsError):
    """The caller sent something we will not act on; maps to a 4xx response."""

    status_code = 400
    title = "Bad Request"
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class NotFoundError(ClientError):
    """Missing, or owned by someone else: the two are deliberately indistinguishable."""

    status_code = 404
    title = "Not Found"
    code = "not_found"


class ConflictError(ClientError):
    status_code = 409
    title = "Conflict"
    code = "conflict"


class PayloadTooLargeError(ClientError):
    status_code = 413
    title = "Payload Too Large"
    code = "payload_too_large"


class UnsupportedMediaTypeError(ClientError):
    status_code = 415
    title = "Unsupported Media Type"
    code = "unsupported_media_type"


class ValidationFailedError(ClientError):
    status_code = 422
    title = "Unprocessable Content"
    code = "validation_failed"


class UnauthorizedError(ClientError):
    status_code = 401
    title = "Unauthorized"
    code = "unauthorized"


class TooManyRequestsError(ClientError):
    status_code = 429
    title = "Too Many Requests"
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after


class ServiceUnavailableError(ClientError):
    """A dependency is down; the caller may retry later."""

    status_code = 503
    title = "Service Unavailable"
    code = "unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after


class WorkerError(CollectionsError):
    """Raised by an event handler."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class TransientError(WorkerError):
    """Might succeed later (a dependency timed out, throttled, or is restarting)."""

    def __init__(self, code: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(code, message)
        self.retry_after = retry_after


class PermanentError(WorkerError):
    """Will fail the same way every time (corrupt file, unsupported type): fail the item now."""
