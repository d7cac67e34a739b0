"""How long a server asked us to wait before trying again (``Retry-After``), for every client."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime


def retry_after_seconds(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds to wait from a response's headers, or None when they say nothing usable.

    ``retry-after-ms`` (Anthropic's, more precise) wins over ``retry-after``, which is either
    delta-seconds or an HTTP date (RFC 9110); a date without a zone, a negative or a non-finite
    value is never taken literally. Header names match in any case, whatever mapping holds them.

    Args:
        headers: the response's headers (``httpx.Headers``, a plain dict, ...).
        now: the current Unix time, for tests; the clock's otherwise.
    """
    if not headers:
        return None
    millis = _seconds(_header(headers, "retry-after-ms"), scale=1000)
    if millis is not None:
        return millis
    value = _header(headers, "retry-after")
    if value is None:
        return None
    seconds = _seconds(value)
    return seconds if seconds is not None else _until(value, time.time() if now is None else now)


def _until(http_date: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    return next((item for key, item in headers.items() if key.lower() == name), None)


def _seconds(value: str | None, *, scale: float = 1) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value) / scale
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None
