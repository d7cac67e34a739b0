"""Screenshots read offline: RapidOCR on drawn phone screenshots (no network), screenshot cues,
handles, hashtags, prices, headline and app; ImageNet labels for photos."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from collections_analyzer.local.classifier import DEFAULT_MODEL, SceneClassifier
from collections_analyzer.local.imagenet import class_terms, display_name
from collections_analyzer.local.ocr import RapidOcrEngine, TextLine
from collections_analyzer.local.screenshot import detect_app, screenshot_cues, text_facts
from collections_analyzer.providers.base import ImageInput
from collections_analyzer.providers.local import LocalProvider
from collections_devtools.testing.golden import GOLDEN
from collections_devtools.testing.screenshots import draw_screenshot

needs_model = pytest.mark.skipif(
    not DEFAULT_MODEL.is_file(), reason="the classifier is not converted (classifier/install.sh)"
)


def line(text: str, top: float = 0.5, height: float = 0.02) -> TextLine:
    return TextLine(text=text, left=0.05, top=top, height=height)


@pytest.fixture(name="offline")
def fx_offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every attempt to open a network connection fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        msg = f"network access attempted: {args!r}"
        raise AssertionError(msg)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def test_rapidocr_reads_overlays_offline(offline: None) -> None:
    """The bundled PP-OCRv6 models load without a network and read outlined text on a photo."""
    shot = draw_screenshot(0)
    engine = RapidOcrEngine()

    lines = engine.read(Image.open(io.BytesIO(shot.jpeg())))

    assert "" == engine.unavailable
    read = {item.text for item in lines}
    overlays = [drawn.text for drawn in shot.lines if drawn.style != "plain"]
    assert overlays
    assert set(overlays) <= read


def test_text_facts_find_handles_hashtags_prices_and_headline() -> None:
    """The first handle near the top posts; others are accounts; prices stay as written."""
    lines = [
        line("9:41", top=0.01),
        line("@TokyoFoodie", top=0.1),
        line("BEST RAMEN IN SHINJUKU", top=0.2, height=0.04),
        line("only ¥1,200 - or $8.50 with tax", top=0.25, height=0.04),
        line("thanks @ramen.club and @noodle_lab #Ramen #tokyoeats", top=0.7),
        line("email me at hi@example.com, issue #12", top=0.8),
    ]

    facts = text_facts(lines)

    assert "@tokyofoodie" == facts.poster
    assert ["@ramen.club", "@noodle_lab"] == facts.accounts
    assert ["#ramen", "#tokyoeats"] == facts.hashtags
    assert ["¥1,200", "$8.50"] == facts.prices
    assert "BEST RAMEN IN SHINJUKU" == facts.headline


@pytest.mark.parametrize(
    ("texts", "app"),
    [
        (["Instagram", "Liked by amy and 1,204 others", "View all 48 comments"], "instagram"),
        (["Following", "For You", "original sound - tokyofoodie"], "tiktok"),
        (["Post", "Repost", "Quote", "1,024 Views"], "x"),
        (["A sunny afternoon at the lake"], ""),
    ],
)
def test_app_is_named_by_its_interface(texts: list[str], app: str) -> None:
    """Two interface words of one app name it; ordinary text names none."""
    assert app == detect_app([line(text) for text in texts])


def test_drawn_screenshots_are_screenshots_and_golden_photos_are_not() -> None:
    """Phone shape, status bar, flat background and dense text outweigh a photo's cues."""
    engine = RapidOcrEngine()
    shots = [draw_screenshot(seed) for seed in range(4)]
    for shot in shots:
        image = Image.open(io.BytesIO(shot.jpeg()))
        cues = screenshot_cues(image, engine.read(image), camera="")
        assert cues.is_screenshot, (shot.app, cues.reasons)
        assert shot.app == (cues.app or "notes"), cues.reasons
    if not (GOLDEN / "images").is_dir():
        pytest.skip("no golden photos on this machine")
    for path in sorted((GOLDEN / "images").glob("*.jpg"))[:8]:
        with Image.open(path) as opened:
            photo = opened.convert("RGB")
        assert not screenshot_cues(photo, engine.read(photo), camera="").is_screenshot, path


async def test_local_analysis_of_a_screenshot_fills_v2_fields() -> None:
    """The offline analyzer categorises a drawn post and fills headline, poster, hashtags, app."""
    shot = draw_screenshot(2)
    provider = LocalProvider(tagger=None, ocr=RapidOcrEngine())

    result = await provider.analyze(ImageInput(data=shot.jpeg(), width=724, height=1568))

    analysis = result.analysis
    assert ("screenshots", "x") == (analysis.category, analysis.likely_source)
    handle = next(drawn.text for drawn in shot.lines if drawn.text.startswith("@"))
    assert handle == analysis.poster
    assert analysis.headline in {drawn.text for drawn in shot.lines if drawn.size == "large"}
    assert {
        tag for drawn in shot.lines for tag in drawn.text.split() if tag.startswith("#")
    } <= set(analysis.hashtags)


def test_imagenet_classes_become_search_words() -> None:
    """Breeds are dogs, scenes are landscapes, the bird called kite is not the toy."""
    assert (["golden retriever", "dog", "pet", "animal"], "animals") == class_terms(
        207, "golden retriever"
    )
    assert "landscape" == class_terms(978, "beach")[1]
    assert "bird of prey" == display_name("kite (bird of prey)")
    assert (["mountain bike", "bike"], "vehicles") == class_terms(671, "mountain bike")


@needs_model
@pytest.mark.skipif(not (GOLDEN / "images").is_dir(), reason="no golden photos on this machine")
def test_classifier_labels_a_golden_photo(offline: None) -> None:
    """The converted EfficientNet-Lite0 names the broccoli on a plate of food."""
    with Image.open(GOLDEN / "images" / "coco_000000062554.jpg") as photo:
        labels = SceneClassifier().classify(photo)

    assert "broccoli" == labels[0].label
    assert "food" == labels[0].category


def test_missing_model_means_no_labels(tmp_path: Any) -> None:
    """Without the converted file the classifier is unavailable and labels nothing."""
    classifier = SceneClassifier(tmp_path / "absent.onnx")

    assert not classifier.available
    assert [] == classifier.classify(Image.new("RGB", (64, 64)))
