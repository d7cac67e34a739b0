"""Analysis schema v2: v1 and v2 input, the seeds' nested shape, rejection with a reason, the
generated tool schema, and the owner's edits carried over a re-analysis."""

from __future__ import annotations

import msgspec
import pytest

from collections_shared.domain.analysis import (
    CATEGORIES,
    DERIVED_FIELDS,
    MAX_TEXT,
    V1_FIELDS,
    Analysis,
    analysis_json_schema,
)
from collections_shared.domain.analysis_edit import (
    AnalysisEdit,
    EmptyEditError,
    apply_edit,
    changed_fields,
    keep_user_fields,
)
from collections_shared.domain.analysis_input import InvalidAnalysisError, normalize_analysis

V1 = {
    "category": "animals",
    "summary": "A brown dog catching a red frisbee on a beach.",
    "description": "A brown dog leaps to catch a red frisbee above wet sand.",
    "tags": ["dog", "frisbee", "beach"],
    "objects": ["dog", "frisbee"],
    "text": "",
    "colors": ["brown", "red"],
    "setting": "outdoor beach",
}
SEEDS = {
    "category": "screenshots",
    "subcategories": ["Travel Tip", "restaurant"],
    "headline": "Best ramen in Shinjuku under $15",
    "summary": "An Instagram post recommending a ramen shop.",
    "media_metadata": {
        "original_poster": "TokyoFoodie",
        "tagged_accounts": ["@ichiran_official", "noodle.lab"],
        "location_tags": ["Shinjuku, Tokyo", "Japan"],
        "audio_source": "original sound - tokyofoodie",
        "hashtags": ["#Ramen", "tokyoeats", "#"],
    },
    "image_details": {
        "extracted_text": ["Best ramen in Shinjuku", "  ¥1,200  ", "", "@ichiran_official"],
        "objects": ["bowl", "chopsticks"],
        "themes": ["food", "travel"],
        "emotions": ["excitement"],
        "vibes": ["cozy"],
        "visual_hierarchy": ["bowl of ramen", "headline text", "price"],
        "key_interest": "the ¥1,200 tonkotsu bowl",
        "likely_source": "Instagram",
    },
}


def test_a_v1_analysis_reads_as_v2_with_the_new_fields_empty() -> None:
    """Every v1 field keeps its value; the v2 fields take their defaults."""
    analysis = normalize_analysis(V1)
    assert {name: getattr(analysis, name) for name in V1_FIELDS} == V1
    assert ("", [], [], "") == (
        analysis.headline,
        analysis.places,
        analysis.hashtags,
        analysis.likely_source,
    )


def test_the_seeds_shape_maps_field_by_field() -> None:
    """media_metadata and image_details land in the flat v2 fields, cleaned."""
    analysis = normalize_analysis(SEEDS)
    assert "Best ramen in Shinjuku under $15" == analysis.headline
    assert ["travel tip", "restaurant"] == analysis.subcategories
    assert "@tokyofoodie" == analysis.poster
    assert ["@ichiran_official", "@noodle.lab"] == analysis.accounts
    assert ["Shinjuku, Tokyo", "Japan"] == analysis.places
    assert "original sound - tokyofoodie" == analysis.audio
    assert ["#ramen", "#tokyoeats"] == analysis.hashtags
    assert ["Best ramen in Shinjuku", "¥1,200", "@ichiran_official"] == analysis.text_lines
    assert "Best ramen in Shinjuku\n¥1,200\n@ichiran_official" == analysis.text
    assert ["bowl", "chopsticks"] == analysis.objects
    assert (["food", "travel"], ["excitement"], ["cozy"]) == (
        analysis.themes,
        analysis.emotions,
        analysis.vibes,
    )
    assert ["bowl of ramen", "headline text", "price"] == analysis.visual_hierarchy
    assert ("the ¥1,200 tonkotsu bowl", "instagram") == (
        analysis.key_interest,
        analysis.likely_source,
    )


def test_text_and_text_lines_derive_from_each_other() -> None:
    """Lines alone give the joined text; a joined text alone gives its lines."""
    from_lines = normalize_analysis({"text_lines": ["MENU", "Soup $4"]})
    from_text = normalize_analysis({"text": "MENU\n\nSoup $4"})
    assert ("MENU\nSoup $4", ["MENU", "Soup $4"]) == (from_lines.text, from_lines.text_lines)
    assert ["MENU", "Soup $4"] == from_text.text_lines


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"summary": "x", "hashtags": 5}, "hashtags"),
        ({"summary": "x", "headline": ["a", "b"]}, "headline"),
        ({"summary": "x", "text_lines": [1, 2]}, "text_lines"),
        ({"summary": "x", "media_metadata": "none"}, "media_metadata"),
        ({"summary": "x", "image_details": {"objects": {"a": 1}}}, "image_details.objects"),
        ({"category": "food", "colors": ["red"]}, "no headline, summary"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_malformed_input_is_rejected_with_a_reason(data: object, reason: str) -> None:
    """A field of the wrong type, or nothing describable, fails with a message naming it."""
    with pytest.raises(InvalidAnalysisError, match=reason.replace(".", r"\.")):
        normalize_analysis(data)


def test_lengths_are_capped_and_control_characters_dropped() -> None:
    """Oversized and hostile strings are cut to the caps, never rejected or stored raw."""
    analysis = normalize_analysis(
        {
            "headline": "Ignore\u202e previous " + "x" * 500,
            "text_lines": ["line " + "y" * 400] * 500,
            "places": [f"place {n}" for n in range(50)],
        }
    )
    assert 120 >= len(analysis.headline)
    assert "\u202e" not in analysis.headline
    assert all(len(line) <= 300 for line in analysis.text_lines)
    assert len(analysis.text) <= MAX_TEXT
    assert 10 == len(analysis.places)


def test_unknown_category_becomes_other() -> None:
    """A category outside the list is not an error, it is ``other``."""
    assert "other" == normalize_analysis({"summary": "x", "category": "Cats!"}).category


def test_tool_schema_is_generated_from_the_struct() -> None:
    """Every stored field but the derived one is asked for, with the Struct's caps and enum."""
    schema = analysis_json_schema()
    expected = [name for name in Analysis.__struct_fields__ if name not in DERIVED_FIELDS]
    assert "object" == schema["type"]
    assert expected == list(schema["properties"]) == schema["required"]
    assert sorted(CATEGORIES) == sorted(schema["properties"]["category"]["enum"])
    assert 120 == schema["properties"]["headline"]["maxLength"]
    assert {"type": "string", "maxLength": 300} == schema["properties"]["text_lines"]["items"]
    assert all(spec.get("description") for spec in schema["properties"].values())
    assert "$ref" not in str(schema)


def test_a_valid_tool_answer_is_a_valid_struct() -> None:
    """What normalization returns always satisfies the Struct's own constraints."""
    analysis = normalize_analysis(SEEDS)
    assert analysis == msgspec.convert(msgspec.to_builtins(analysis), Analysis)


def test_an_edit_sets_only_its_fields_and_remembers_them() -> None:
    """Left-out fields keep their value; user_fields accumulate across edits."""
    current = normalize_analysis(V1)
    edit = msgspec.convert({"headline": "Max at the beach", "places": ["Brighton"]}, AnalysisEdit)
    edited, fields = apply_edit(current, edit, ["tags"])
    assert ("Max at the beach", ["Brighton"], V1["summary"]) == (
        edited.headline,
        edited.places,
        edited.summary,
    )
    assert ["headline", "tags", "places"] == fields
    assert ["headline", "places"] == changed_fields(current, edited)
    with pytest.raises(EmptyEditError):
        apply_edit(current, AnalysisEdit(), [])


def test_a_reanalysis_keeps_the_owners_fields() -> None:
    """Fresh model output replaces everything except what the owner set (text as one field)."""
    owner = Analysis(headline="Max", text="MAX", text_lines=["MAX"], tags=["dog"])
    fresh = Analysis(headline="A dog", text="SURF", text_lines=["SURF"], tags=["beach"])
    kept = keep_user_fields(fresh, owner, ["headline", "text"])
    assert ("Max", "MAX", ["MAX"], ["beach"]) == (
        kept.headline,
        kept.text,
        kept.text_lines,
        kept.tags,
    )
    assert fresh == keep_user_fields(fresh, owner, [])
