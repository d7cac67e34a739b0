"""The offline planner on a fixed clock: dates in the client's calendar, seasons, kinds."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from collections_search.planner import plan_query

UTC_ZONE = ZoneInfo("UTC")


def at(day: str, zone: str = "UTC", clock: str = "12:00") -> datetime:
    """The moment ``day clock`` in ``zone``."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ZoneInfo(zone))


def utc(day: str, clock: str = "00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("today", "request_text", "after", "before"),
    [
        # The reported bug: on 2 December 2026 "last winter" meant the winter just begun.
        ("2026-12-02", "last winter", "2025-12-01", "2026-03-01"),
        ("2026-02-10", "last winter", "2024-12-01", "2025-03-01"),
        ("2026-07-15", "last winter", "2025-12-01", "2026-03-01"),
        ("2026-07-15", "last summer", "2025-06-01", "2025-09-01"),
        ("2026-10-01", "last summer", "2026-06-01", "2026-09-01"),
        ("2026-04-20", "last spring", "2025-03-01", "2025-06-01"),
        ("2026-10-01", "this summer", "2026-06-01", "2026-09-01"),
        ("2026-03-01", "autumn 2024", "2024-09-01", "2024-12-01"),
        ("2026-12-15", "fall", "2026-09-01", "2026-12-01"),
    ],
)
def test_seasons_resolve_to_the_right_months(
    today: str, request_text: str, after: str, before: str
) -> None:
    """Seasons are read relative to the request's date: "last" is the most recent one over."""
    plan = plan_query(f"beach photos {request_text}", at(today))
    assert utc(after) == plan.filters.taken_after
    assert utc(before) == plan.filters.taken_before
    assert "rules" == plan.source


def test_a_season_under_way_has_no_end_in_the_future() -> None:
    """ "winter" on 2 December is the one begun yesterday; its future end is not used."""
    plan = plan_query("snow this winter", at("2026-12-02"))
    assert utc("2026-12-01") == plan.filters.taken_after
    assert plan.filters.taken_before is None


def test_a_season_still_to_come_is_dropped() -> None:
    """In July "this winter" lies in the future: no date filter, and the plan says why."""
    plan = plan_query("snow this winter", at("2026-07-15"))
    assert plan.filters.taken_after is None and plan.filters.taken_before is None
    assert any("in the future: not used" in step for step in plan.steps)
    assert "snow" == plan.query


def test_a_future_year_is_dropped_not_used() -> None:
    """A year after today's would only match photos with a wrong clock: it is ignored."""
    plan = plan_query("fireworks 2031", at("2026-12-02"))
    assert plan.filters.taken_after is None and plan.filters.taken_before is None
    assert "fireworks" == plan.query


def test_relative_days_follow_the_clients_calendar() -> None:
    """At 01:30 in Tokyo "yesterday" is the Tokyo day before, as UTC instants."""
    plan = plan_query("lunch yesterday", at("2026-03-10", "Asia/Tokyo", "01:30"))
    assert utc("2026-03-08", "15:00") == plan.filters.taken_after
    assert utc("2026-03-09", "15:00") == plan.filters.taken_before


def test_yesterday_in_utc_differs_from_tokyo_at_the_same_instant() -> None:
    """The same instant read in UTC is still 9 March, so "yesterday" is 8 March there."""
    instant = at("2026-03-10", "Asia/Tokyo", "01:30").astimezone(UTC_ZONE)
    plan = plan_query("lunch yesterday", instant)
    assert utc("2026-03-08") == plan.filters.taken_after
    assert utc("2026-03-09") == plan.filters.taken_before


@pytest.mark.parametrize(
    ("today", "request_text", "after", "before"),
    [
        ("2026-02-10", "in march", "2025-03-01", "2025-04-01"),
        ("2026-05-10", "in march", "2026-03-01", "2026-04-01"),
        ("2026-05-10", "may 2024", "2024-05-01", "2024-06-01"),
        ("2026-01-15", "last month", "2025-12-01", "2026-01-01"),
        ("2026-01-15", "last year", "2025-01-01", "2026-01-01"),
        ("2026-12-02", "last week", "2026-11-23", "2026-11-30"),
        ("2026-12-02", "2019", "2019-01-01", "2020-01-01"),
    ],
)
def test_months_weeks_and_years(today: str, request_text: str, after: str, before: str) -> None:
    """Named months are the most recent one; weeks start on Monday; whole years as given."""
    plan = plan_query(f"dogs {request_text}", at(today))
    assert (utc(after), utc(before)) == (plan.filters.taken_after, plan.filters.taken_before)


def test_last_n_days_ends_today() -> None:
    """ "the last 7 days" starts six days before today; its end (tomorrow) is not a filter."""
    plan = plan_query("photos from the last 7 days", at("2026-12-02"))
    assert utc("2026-11-26") == plan.filters.taken_after
    assert plan.filters.taken_before is None


def test_uploaded_dates_filter_the_upload_time() -> None:
    """ "uploaded last month" filters created_at, not the date the photo was taken."""
    plan = plan_query("screenshots I uploaded last month", at("2026-12-02"))
    assert utc("2026-11-01") == plan.filters.created_after
    assert utc("2026-12-01") == plan.filters.created_before
    assert plan.filters.taken_after is None
    assert ["screenshots"] == plan.filters.categories


def test_kinds_text_and_residual_query() -> None:
    """Kinds of picture become categories, "with text" a filter; the rest is the query."""
    plan = plan_query("show me receipts with text from a coffee shop", at("2026-12-02"))
    assert ["documents"] == plan.filters.categories
    assert plan.filters.has_text is True
    assert "receipts a coffee shop" == plan.query


def test_a_request_of_only_filler_keeps_the_words() -> None:
    """When nothing but filler is left, the original request is searched."""
    plan = plan_query("show me my photos", at("2026-12-02"))
    assert "show me my photos" == plan.query
