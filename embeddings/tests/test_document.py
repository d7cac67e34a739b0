"""The embedding document: which analysis fields are embedded, in what order, capped."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from collections_embeddings.document import (
    MAX_DOCUMENT_CHARS,
    embedding_document,
    filename_words,
)
from collections_shared.domain.analysis import Analysis

ANALYSIS = Analysis(
    category="animals",
    summary="A brown dog catches a frisbee on a beach",
    description="A dog leaps over wet sand. Waves break behind it.",
    tags=["dog", "frisbee", "beach"],
    objects=["dog", "frisbee"],
    text="SURF CLUB",
    colors=["brown", "blue"],
    setting="outdoor beach",
)


def test_fields_come_in_a_fixed_labelled_order() -> None:
    """Summary, tags, description, objects, setting, text, colors, category, file, date."""
    document = embedding_document(
        ANALYSIS, filename="summer-holiday.jpg", taken_at=datetime(2021, 3, 14, tzinfo=UTC)
    )
    assert (
        "A brown dog catches a frisbee on a beach. Tags: dog, frisbee, beach. "
        "A dog leaps over wet sand. Waves break behind it. Objects: dog, frisbee. "
        "Setting: outdoor beach. Text in the image: SURF CLUB. Colors: brown, blue. "
        "Category: animals. File: summer holiday. Taken: March 2021."
    ) == document


def test_document_is_deterministic() -> None:
    """The same analysis always gives the same text."""
    assert embedding_document(ANALYSIS) == embedding_document(ANALYSIS)


def test_empty_fields_and_the_other_category_are_left_out() -> None:
    """Only fields with content appear; ``other`` says nothing and is dropped."""
    document = embedding_document(Analysis(summary="A receipt", category="other"))
    assert "A receipt." == document


def test_long_fields_are_capped_and_keep_the_tags() -> None:
    """A huge description and visible text are clipped; tags still make it into the document."""
    huge = msgspec.structs.replace(
        ANALYSIS, description="word " * 2000, text="LOREM " * 2000, tags=["needle"]
    )
    document = embedding_document(huge)
    assert len(document) <= MAX_DOCUMENT_CHARS
    assert "Tags: needle." in document
    assert document.count("LOREM") < 60
    assert not document.endswith(" ")


def test_visible_text_and_tags_are_included() -> None:
    """Words seen in the image and every tag are part of the document."""
    document = embedding_document(ANALYSIS)
    assert "Text in the image: SURF CLUB." in document
    assert all(tag in document for tag in ANALYSIS.tags)


def test_whitespace_inside_fields_is_collapsed() -> None:
    """Newlines and runs of spaces from a model's output become single spaces."""
    document = embedding_document(Analysis(summary="Two\n\nboats   at\tdawn"))
    assert "Two boats at dawn." == document


def test_camera_file_names_add_nothing() -> None:
    """IMG_1234.JPG-style names carry no words; descriptive names keep theirs."""
    assert "" == filename_words("IMG_20240101_123456.JPG")
    assert "" == filename_words("DSC01234.jpg")
    assert "grand canyon trip" == filename_words("grand-canyon_trip2019.jpeg")
    assert "birthday cake" == filename_words("uploads/BirthdayCake.png")


def test_taken_at_is_rendered_as_month_and_year() -> None:
    """The EXIF date is added in words, independent of the locale."""
    document = embedding_document(ANALYSIS, taken_at=datetime(2019, 12, 24, 18, 30, tzinfo=UTC))
    assert document.endswith("Taken: December 2019.")


def test_v2_fields_join_the_document_after_the_summary() -> None:
    """Headline, places and tags lead; the text, key point, poster, accounts and hashtags follow
    the description; themes, vibes and emotions are one labelled list."""
    analysis = Analysis(
        category="screenshots",
        headline="Best ramen in Shinjuku",
        summary="An Instagram post recommending a ramen shop",
        places=["Shinjuku", "Tokyo"],
        tags=["ramen"],
        description="A bowl of ramen.",
        text="Fuunji ¥1,200",
        key_interest="tsukemen for ¥1,200",
        poster="@tokyofoodie",
        accounts=["@ramen.club"],
        hashtags=["#ramen"],
        themes=["food"],
        vibes=["cozy"],
        likely_source="instagram",
    )
    assert (
        "An Instagram post recommending a ramen shop. Best ramen in Shinjuku. "
        "Places: Shinjuku, Tokyo. Tags: ramen. A bowl of ramen. Text in the image: Fuunji ¥1,200. "
        "Key point: tsukemen for ¥1,200. Posted by: @tokyofoodie. Accounts: @ramen.club. "
        "Hashtags: #ramen. Themes: food, cozy. Source: instagram. Category: screenshots."
    ) == embedding_document(analysis)
