"""Retry-After as every client reads it: seconds, HTTP dates, milliseconds, nonsense."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from collections_shared.retry import retry_after_seconds

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def test_delta_seconds_and_http_dates() -> None:
    """Retry-After is honoured as delta-seconds or as an HTTP date, never negative."""
    later = format_datetime(datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC), usegmt=True)
    earlier = format_datetime(datetime(2026, 1, 1, 11, 0, 0, tzinfo=UTC), usegmt=True)
    assert 2.5 == retry_after_seconds({"retry-after": "2.5"})
    assert 30.0 == retry_after_seconds({"Retry-After": later}, now=NOW.timestamp())
    assert 0.0 == retry_after_seconds({"retry-after": earlier}, now=NOW.timestamp())
    assert 0.0 == retry_after_seconds({"retry-after": "-4"})


def test_milliseconds_win_over_seconds() -> None:
    """retry-after-ms is more precise than retry-after, so it is read first."""
    headers = httpx.Headers({"Retry-After": "7", "Retry-After-Ms": "250"})
    assert 0.25 == retry_after_seconds(headers)
    assert 7.0 == retry_after_seconds({"retry-after": "7", "retry-after-ms": "soon"})


@pytest.mark.parametrize(
    "headers",
    [
        None,
        {},
        {"retry-after": ""},
        {"retry-after": "soon"},
        {"retry-after": "inf"},
        {"retry-after": "nan"},
        {"retry-after": "Thu, 01 Jan 2026 12:00:30"},  # a date without its zone
        {"content-type": "application/json"},
    ],
    ids=["none", "empty", "blank", "word", "inf", "nan", "no-zone", "absent"],
)
def test_unusable_values_say_nothing(headers: dict[str, str] | None) -> None:
    """Anything that is not a finite number of seconds or a zoned date gives None."""
    assert retry_after_seconds(headers, now=NOW.timestamp()) is None
