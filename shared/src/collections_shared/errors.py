"""A small error hierarchy shared by the services.

A :class:`ProblemError` becomes an RFC 9457 problem+json response: a :class:`RequestError` (4xx)
when the request is at fault, :class:`ServiceUnavailableError` (503) when a dependency is down
and the same request may succeed later. Worker errors say whether
trying again can help: a transient error leaves the message for redelivery (with backoff), a
permanent one marks the item ``failed`` with its reason at once.
"""

from __future__ import annotations


class CollectionsError(Exception):
    """Base of every error this project raises on purpose."""


class ProblemError(CollectionsError):
    """Answered as problem+json with ``status_code``, ``title``, ``code`` and ``detail``."""

    status_code = 400
    title = "Bad Request"
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class RequestError(ProblemError):
    """The caller sent something we will not act on; a 4xx response."""


class NotFoundError(RequestError):
    """Missing, or owned by someone else: the two are deliberately indistinguishable."""

    status_code = 404
    title = "Not Found"
    code = "not_found"


class ConflictError(RequestError):
    status_code = 409
    title = "Conflict"
    code = "conflict"


class PayloadTooLargeError(RequestError):
    status_code = 413
    title = "Payload Too Large"
    code = "payload_too_large"


class UnsupportedMediaTypeError(RequestError):
    status_code = 415
    title = "Unsupported Media Type"
    code = "unsupported_media_type"


class ValidationFailedError(RequestError):
    status_code = 422
    title = "Unprocessable Content"
    code = "validation_failed"


class UnauthorizedError(RequestError):
    status_code = 401
    title = "Unauthorized"
    code = "unauthorized"


class TooManyRequestsError(RequestError):
    status_code = 429
    title = "Too Many Requests"
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after


class ServiceUnavailableError(ProblemError):
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
