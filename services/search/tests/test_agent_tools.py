"""Checks on Claude's tool arguments, and the rule that the caller's filters are never widened."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from collections_search.agent_tools import (
    FINISH_TOOL,
    SEARCH_TOOL,
    FinishArguments,
    SearchArguments,
    narrow,
    proposed_filters,
)
from collections_search.schemas import Filters

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize(
    "arguments",
    [
        {"query": "dogs", "user_id": "someone-else"},
        {"query": "dogs", "filters": {"category": "animals"}},
        {"query": ""},
        {"query": 42},
        {"query": "x" * 201},
        {"query": "dogs", "category": "secrets"},
        {"query": "dogs", "date_from": "2026-05-01", "date_to": "2026-04-01"},
        {"query": "dogs", "date_from": "last winter"},
        {"query": "dogs", "tags": ["a"] * 9},
        {"query": "dogs", "has_text": "yes"},
        ["dogs"],
    ],
)
def test_malformed_search_arguments_are_refused(arguments: Any) -> None:
    """Unknown fields (a smuggled user id), wrong types, bad dates and unknown categories fail."""
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(arguments, SearchArguments)


def test_finish_takes_uuids_only() -> None:
    """A finish with something that is not an item id does not validate."""
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"item_ids": ["../etc/passwd"], "plan": "x"}, FinishArguments)
    item = uuid.uuid4()
    parsed = msgspec.convert({"item_ids": [str(item)], "plan": "dogs"}, FinishArguments)
    assert [item] == parsed.item_ids


def test_tool_schemas_are_closed_and_name_no_user() -> None:
    """The schemas offered to the model forbid extra fields and have no tenant parameter."""
    for tool in (SEARCH_TOOL, FINISH_TOOL):
        schema = tool["input_schema"]
        assert schema["additionalProperties"] is False
        assert not {"user_id", "user", "owner", "sub"} & set(schema["properties"])


def test_dates_are_local_days_and_future_ones_are_dropped() -> None:
    """A date range is read in the client's zone; one starting after today is not used."""
    notes: list[str] = []
    arguments = SearchArguments(query="snow", date_from=NOW.date().replace(day=1))
    proposed = proposed_filters(arguments, NOW, notes)
    assert datetime(2026, 11, 30, 23, 0, tzinfo=UTC) == proposed["taken_after"]
    assert "taken_before" not in proposed

    future = SearchArguments(query="snow", date_from=date(2027, 1, 1))
    assert {} == proposed_filters(future, NOW, notes)
    assert ["dates: from 2027-01-01 is in the future: not used"] == notes


def test_uploaded_dates_become_created_filters() -> None:
    """``date_field: uploaded`` filters the upload time."""
    arguments = SearchArguments(
        query="x",
        date_field="uploaded",
        date_from=date(2026, 1, 1),
        date_to=date(2026, 1, 31),
    )
    proposed = proposed_filters(arguments, NOW, [])
    assert datetime(2025, 12, 31, 23, 0, tzinfo=UTC) == proposed["created_after"]
    assert datetime(2026, 1, 31, 23, 0, tzinfo=UTC) == proposed["created_before"]


def test_the_callers_filters_are_never_widened() -> None:
    """Category and has_text stay the caller's; tags add up; date ranges only shrink."""
    explicit = Filters(
        category="documents",
        tags=["invoice"],
        taken_after=datetime(2026, 1, 1),  # noqa: DTZ001 - no offset: read as UTC
        taken_before=datetime(2026, 6, 1, tzinfo=UTC),
        has_text=True,
    )
    proposed = {
        "categories": ["animals"],
        "tags": ["dog"],
        "taken_after": datetime(2025, 1, 1, tzinfo=UTC),
        "taken_before": datetime(2026, 3, 1, tzinfo=UTC),
        "has_text": False,
    }
    merged = narrow(explicit, proposed)
    assert "documents" == merged.category and merged.categories is None
    assert ["invoice", "dog"] == merged.tags
    assert datetime(2026, 1, 1, tzinfo=UTC) == merged.taken_after
    assert datetime(2026, 3, 1, tzinfo=UTC) == merged.taken_before
    assert merged.has_text is True


def test_without_caller_filters_the_proposal_applies() -> None:
    """With nothing set by the caller, the model's filters are used as proposed."""
    proposed = {"categories": ["animals"], "has_text": False}
    merged = narrow(Filters(), proposed)
    assert ["animals"] == merged.categories
    assert merged.has_text is False
