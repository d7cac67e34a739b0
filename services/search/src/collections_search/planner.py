"""Agentic mode without an LLM: read dates and kinds of picture out of a plain-language request.

"screenshots from last spring with a receipt" becomes ``categories=[screenshots, documents]``,
a date range for last spring, and the semantic query "receipt". The residual query then runs as
hybrid search. With an Anthropic key the search service asks Claude for the same plan instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from collections_search.schemas import Filters, Plan

_MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip
_SEASONS = {"spring": (3, 3), "summer": (6, 3), "autumn": (9, 3), "fall": (9, 3), "winter": (12, 3)}
_CATEGORY_WORDS = {
    "screenshot": "screenshots", "screenshots": "screenshots", "screen": "screenshots",
    "document": "documents", "documents": "documents", "receipt": "documents",
    "receipts": "documents", "scan": "documents", "scans": "documents",
    "selfie": "people", "selfies": "people", "portrait": "people", "portraits": "people",
    "landscape": "landscape", "landscapes": "landscape",
    "food": "food", "meal": "food", "meals": "food", "dish": "food", "dishes": "food",
    "pet": "animals", "pets": "animals", "animal": "animals", "animals": "animals",
    "artwork": "art", "painting": "art", "paintings": "art",
}  # fmt: skip
_FILLER = re.compile(
    r"\b(show me|find|search for|look for|i saved|i took|i uploaded|i made|photos?|pictures?|"
    r"pics?|images?|shots?|of|my|the|from|in|on|during|taken|with|that|some|all|any)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


def _month_range(year: int, month: int, months: int = 1) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=UTC)
    end_month = month - 1 + months
    end = datetime(year + end_month // 12, end_month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _relative(word: str, now: datetime) -> tuple[datetime, datetime] | None:
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    ranges = {
        "today": (today, today + timedelta(days=1)),
        "yesterday": (today - timedelta(days=1), today),
        "this week": (today - timedelta(days=today.weekday()), today + timedelta(days=1)),
        "last week": (
            today - timedelta(days=today.weekday() + 7),
            today - timedelta(days=today.weekday()),
        ),
        "this month": _month_range(now.year, now.month),
        "last month": _month_range(now.year - (now.month == 1), (now.month - 2) % 12 + 1),
        "this year": (
            datetime(now.year, 1, 1, tzinfo=UTC),
            datetime(now.year + 1, 1, 1, tzinfo=UTC),
        ),
        "last year": (
            datetime(now.year - 1, 1, 1, tzinfo=UTC),
            datetime(now.year, 1, 1, tzinfo=UTC),
        ),
    }
    return ranges.get(word)


def _season(which: str, name: str, year: str | None, now: datetime) -> tuple[datetime, datetime]:
    start_month, length = _SEASONS[name]
    if year:
        season_year = int(year)
    else:
        season_year = now.year if (start_month, 1) <= (now.month, 1) else now.year - 1
        if which == "last":
            season_year -= 1 if (now.month - start_month) % 12 >= length else 0
    return _month_range(season_year, start_month, length)


def _dates(
    text: str, now: datetime, steps: list[str]
) -> tuple[str, tuple[datetime, datetime] | None]:
    lowered = text.lower()
    for phrase in (
        "today",
        "yesterday",
        "this week",
        "last week",
        "this month",
        "last month",
        "this year",
        "last year",
    ):
        if phrase in lowered:
            steps.append(f"date: {phrase}")
            return re.sub(phrase, " ", text, flags=re.IGNORECASE), _relative(phrase, now)
    season = re.search(
        r"\b(?:(last|this)\s+)?(spring|summer|autumn|fall|winter)(?:\s+(\d{4}))?\b", lowered
    )
    if season:
        steps.append(f"date: {season.group(0)}")
        return text[: season.start()] + " " + text[season.end() :], _season(
            season.group(1) or "", season.group(2), season.group(3), now
        )
    month = re.search(r"\b(" + "|".join(_MONTHS) + r")\b(?:\s+(\d{4}))?", lowered)
    if month and (month.group(2) or len(month.group(1)) > 3):
        year = (
            int(month.group(2))
            if month.group(2)
            else now.year - (_MONTHS[month.group(1)] > now.month)
        )
        steps.append(f"date: {month.group(0)}")
        return text[: month.start()] + " " + text[month.end() :], _month_range(
            year, _MONTHS[month.group(1)]
        )
    year_match = _YEAR.search(lowered)
    if year_match:
        year = int(year_match.group(1))
        steps.append(f"date: {year}")
        return _YEAR.sub(" ", text, count=1), (
            datetime(year, 1, 1, tzinfo=UTC),
            datetime(year + 1, 1, 1, tzinfo=UTC),
        )
    return text, None


def plan_query(query: str, now: datetime | None = None) -> Plan:
    """Split a request into filters and the words left to search for."""
    now = now or datetime.now(UTC)
    steps: list[str] = []
    text, window = _dates(query, now, steps)
    categories: list[str] = []
    for word in re.findall(r"[a-z]+", text.lower()):
        category = _CATEGORY_WORDS.get(word)
        if category and category not in categories:
            categories.append(category)
    if categories:
        steps.append(f"categories: {', '.join(categories)}")
    residual = " ".join(_FILLER.sub(" ", text).split()) or query
    steps.append(f"search: {residual}")
    filters = Filters(
        categories=categories or None,
        taken_after=window[0] if window else None,
        taken_before=window[1] if window else None,
    )
    return Plan(query=residual, filters=filters, steps=steps)
