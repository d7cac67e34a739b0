"""Calendar ranges in the client's time zone, turned into the instants the filters compare.

Both planners think in local calendar days ("yesterday" in Tokyo is not yesterday in UTC): a range
is a start day (inclusive) and an end day (exclusive), and its bounds are local midnights. A range
that starts in the future is dropped, not used (it could only match photos with a wrong clock);
an end in the future is dropped too, which changes nothing but keeps the filter honest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo


@dataclass(frozen=True)
class DayRange:
    """``start`` ≤ day < ``end``, in the client's calendar."""

    start: date
    end: date

    def label(self) -> str:
        last = self.end - timedelta(days=1)
        return self.start.isoformat() if last == self.start else f"{self.start}..{last}"


@dataclass(frozen=True)
class Bounds:
    """The instants a range becomes, and what was dropped from it (for the plan's steps)."""

    after: datetime | None
    before: datetime | None
    dropped: str | None = None


def month_start(year: int, month: int) -> date:
    """The first day of ``month`` (any integer: 13 is January of the next year, 0 December)."""
    years, index = divmod(month - 1, 12)
    return date(year + years, index + 1, 1)


def months(year: int, month: int, count: int = 1) -> DayRange:
    """``count`` calendar months from ``month`` of ``year``."""
    return DayRange(month_start(year, month), month_start(year, month + count))


def midnight(day: date, zone: tzinfo) -> datetime:
    """The local midnight that starts ``day``, as a UTC instant."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def bounds(start: date | None, end: date | None, now: datetime) -> Bounds:
    """Days ``start`` ≤ day < ``end`` (either may be open) as UTC instants in ``now``'s zone,
    without their future part. ``now`` must be aware: the request's moment for the client."""
    zone = now.tzinfo
    assert zone is not None, "now must carry the client's time zone"
    after = midnight(start, zone) if start is not None else None
    before = midnight(end, zone) if end is not None else None
    if after is not None and after > now:
        span = DayRange(start, end) if start is not None and end is not None else None
        label = span.label() if span else f"from {start}"
        return Bounds(None, None, dropped=f"{label} is in the future: not used")
    if before is not None and before > now:
        before = None
    return Bounds(after, before)
