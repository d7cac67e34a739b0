"""The offline planner: read dates and kinds of picture out of a plain-language request.

"screenshots from last spring with a receipt" becomes ``categories=[screenshots, documents]``,
a date range for last spring, and the semantic query "receipt"; the residual query then runs as
hybrid search. This is what agentic mode uses when no LLM is configured, and what it falls back
to when Claude fails (:mod:`collections_search.agentic`); the plan says which one ran.

Dates are read in the client's calendar (``now`` carries its time zone). Seasons are the
northern hemisphere's meteorological ones (winter is December to February). "last winter" is the
most recent winter that is over; "this winter" the one under way, else the one that begins in
this calendar year; a bare "winter" the most recent one that has begun.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import msgspec

from collections_search.dates import DayRange, bounds, month_start, months
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
_SEASON_MONTHS = 3
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
"""First month of each season."""
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
    r"pics?|images?|shots?|of|my|the|from|in|on|during|taken|uploaded|added|saved|with|that|"
    r"some|all|any)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
_UPLOADED = re.compile(r"\b(uploaded|added|saved|imported)\b", re.IGNORECASE)
_HAS_TEXT = re.compile(r"\b(?:with|containing|has|have)\s+(?:text|words|writing)\b", re.IGNORECASE)
_PHRASES = (
    "today", "yesterday", "this week", "last week", "this month", "last month", "this year",
    "last year",
)  # fmt: skip
_LAST_N = re.compile(r"\b(?:last|past)\s+(\d{1,3})\s+(day|week|month)s?\b", re.IGNORECASE)
_SEASON = re.compile(r"\b(?:(last|this)\s+)?(spring|summer|autumn|fall|winter)(?:\s+(\d{4}))?\b")
_MONTH = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b(?:\s+(\d{4}))?")


def _phrase_range(phrase: str, now: datetime) -> DayRange:
    today = now.date()
    monday = today - timedelta(days=today.weekday())
    ranges = {
        "today": DayRange(today, today + timedelta(days=1)),
        "yesterday": DayRange(today - timedelta(days=1), today),
        "this week": DayRange(monday, today + timedelta(days=1)),
        "last week": DayRange(monday - timedelta(days=7), monday),
        "this month": months(today.year, today.month),
        "last month": months(today.year, today.month - 1),
        "this year": months(today.year, 1, 12),
        "last year": months(today.year - 1, 1, 12),
    }
    return ranges[phrase]


def _last_n(count: int, unit: str, now: datetime) -> DayRange:
    today = now.date()
    end = today + timedelta(days=1)
    if unit == "month":
        start = month_start(today.year, today.month - count)
        return DayRange(start.replace(day=min(today.day, 28)), end)
    return DayRange(end - timedelta(days=count * (7 if unit == "week" else 1)), end)


def season_range(which: str, name: str, year: int | None, now: datetime) -> DayRange:
    """The season meant by "[last|this] <season> [year]" on ``now``'s date."""
    first_month = _SEASONS[name]
    if year is not None:
        return months(year, first_month, _SEASON_MONTHS)
    today = now.date()
    # The most recent season of this name that has begun, and whether it is still going on.
    begun = today.year if today.month >= first_month else today.year - 1
    under_way = (today.month - first_month) % 12 < _SEASON_MONTHS
    if which == "last" and under_way:
        begun -= 1  # the one going on is "this" season; "last" is the one before it
    elif which == "this" and not under_way:
        begun = today.year  # this calendar year's (still to come in July for winter: dropped)
    return months(begun, first_month, _SEASON_MONTHS)


def _date_range(text: str, now: datetime) -> tuple[str, str, DayRange] | None:
    """(the words that said it, the text without them, the range) for the first date found."""
    lowered = text.lower()
    for phrase in _PHRASES:
        if phrase in lowered:
            return (
                phrase,
                re.sub(phrase, " ", text, flags=re.IGNORECASE),
                _phrase_range(phrase, now),
            )
    found: tuple[re.Match[str], DayRange] | None = None
    if last := _LAST_N.search(lowered):
        found = last, _last_n(int(last.group(1)), last.group(2).lower(), now)
    elif season := _SEASON.search(lowered):
        year = int(season.group(3)) if season.group(3) else None
        found = season, season_range(season.group(1) or "", season.group(2), year, now)
    elif (month := _MONTH.search(lowered)) and (month.group(2) or len(month.group(1)) > 3):
        number = _MONTHS[month.group(1)]
        year = int(month.group(2)) if month.group(2) else now.year - (number > now.month)
        found = month, months(year, number)
    elif year_match := _YEAR.search(lowered):
        found = year_match, months(int(year_match.group(1)), 1, 12)
    if found is None:
        return None
    match, span = found
    return match.group(0), text[: match.start()] + " " + text[match.end() :], span


def _date_filters(text: str, now: datetime, steps: list[str]) -> tuple[str, dict[str, datetime]]:
    """The text without its date words, and the date filters they stand for."""
    read = _date_range(text, now)
    if read is None:
        return text, {}
    words, rest, span = read
    window = bounds(span.start, span.end, now)
    uploaded = bool(_UPLOADED.search(text))
    field = "created" if uploaded else "taken"
    if window.dropped:
        steps.append(f"date: {words}: {window.dropped}")
        return rest, {}
    steps.append(f"date ({'uploaded' if uploaded else 'taken'}): {words} = {span.label()}")
    filters: dict[str, datetime] = {}
    if window.after is not None:
        filters[f"{field}_after"] = window.after
    if window.before is not None:
        filters[f"{field}_before"] = window.before
    return rest, filters


def plan_query(query: str, now: datetime) -> Plan:
    """Split a request into filters and the words left to search for.

    ``now`` is the request's moment in the client's time zone (aware).
    """
    steps: list[str] = []
    text, dated = _date_filters(query, now, steps)
    categories: list[str] = []
    for word in re.findall(r"[a-z]+", text.lower()):
        category = _CATEGORY_WORDS.get(word)
        if category and category not in categories:
            categories.append(category)
    if categories:
        steps.append(f"categories: {', '.join(categories)}")
    has_text = True if _HAS_TEXT.search(text) else None
    if has_text:
        text = _HAS_TEXT.sub(" ", text)
        steps.append("with visible text")
    residual = " ".join(_FILLER.sub(" ", text).split()) or query
    steps.append(f"search: {residual}")
    filters = msgspec.convert(
        {"categories": categories or None, "has_text": has_text, **dated}, Filters
    )
    return Plan(query=residual, filters=filters, source="rules", steps=steps)
