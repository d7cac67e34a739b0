"""The offline analyzer's cues (colours, OCR, faces, EXIF, file name) and how they become words."""

from __future__ import annotations

import io
import shutil
from datetime import datetime

import pytest
from PIL import Image, ImageDraw, ImageFont

from collections_analyzer.local.colors import dominant_colors
from collections_analyzer.local.cues import filename_words, season, time_of_day
from collections_analyzer.local.describe import VisualCues, describe
from collections_analyzer.local.faces import count_faces
from collections_analyzer.local.objects import Detection
from collections_analyzer.local.ocr import RapidOcrEngine, TesseractEngine, joined
from collections_analyzer.providers.base import ImageInput
from collections_analyzer.providers.local import LocalProvider
from collections_devtools.testing.golden import GOLDEN as GOLDEN_SET

GOLDEN = GOLDEN_SET / "images"


def jpeg(image: Image.Image) -> bytes:
    """``image`` as JPEG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def printed(*lines: str) -> Image.Image:
    """Black text in a large font on white, like a sign or a document photo."""
    image = Image.new("RGB", (1000, 130 * len(lines) + 40), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=72)
    for index, line in enumerate(lines):
        draw.text((40, 30 + 130 * index), line, fill="black", font=font)
    return image


def detections(*pairs: tuple[str, float]) -> list[Detection]:
    """Detections with a mid-sized box."""
    return [Detection(label=label, score=score, area=0.1) for label, score in pairs]


@pytest.mark.parametrize(
    ("rgb", "name"),
    [((230, 20, 20), "red"), ((20, 40, 220), "blue"), ((250, 250, 250), "white")],
)
def test_solid_colour_is_named(rgb: tuple[int, int, int], name: str) -> None:
    """A solid image has exactly its colour's name."""
    assert [name] == dominant_colors(Image.new("RGB", (120, 90), rgb))


def test_two_colours_most_prominent_first() -> None:
    """Two-thirds blue, one-third white gives blue then white."""
    image = Image.new("RGB", (90, 90), (20, 60, 200))
    image.paste((255, 255, 255), (60, 0, 90, 90))

    assert ["blue", "white"] == dominant_colors(image)


@pytest.mark.parametrize(
    "engine", [TesseractEngine(), RapidOcrEngine()], ids=["tesseract", "rapidocr"]
)
def test_ocr_reads_big_printed_text(engine: TesseractEngine | RapidOcrEngine) -> None:
    """Large printed words are read back verbatim, one line per line, top to bottom."""
    if engine.name == "tesseract" and shutil.which("tesseract") is None:
        pytest.skip("the tesseract binary is not installed")
    lines = engine.read(printed("SUMMER SALE", "Fresh Bread Daily"))

    assert "SUMMER SALE\nFresh Bread Daily" == joined(lines)
    assert lines[0].top < lines[1].top
    assert all(0.1 < line.height < 0.5 for line in lines)


@pytest.mark.parametrize(
    "engine", [TesseractEngine(), RapidOcrEngine()], ids=["tesseract", "rapidocr"]
)
def test_ocr_reports_nothing_on_texture(engine: TesseractEngine | RapidOcrEngine) -> None:
    """A textureless or noisy photo yields no invented words."""
    if engine.name == "tesseract" and shutil.which("tesseract") is None:
        pytest.skip("the tesseract binary is not installed")
    noise = Image.effect_noise((400, 300), 60).convert("RGB")

    assert [] == engine.read(noise)


def test_haar_finds_no_face_in_a_flat_image() -> None:
    """The face cascade does not fire on an empty picture."""
    assert 0 == count_faces(Image.new("RGB", (400, 300), (128, 128, 128)))


@pytest.mark.skipif(not GOLDEN.is_dir(), reason="the golden photos are not on this machine")
def test_haar_counts_faces_in_a_group_photo() -> None:
    """A golden photo of two people facing the camera has faces."""
    with Image.open(GOLDEN / "flickr8k_1142283988_6b227c5231.jpg") as photo:
        assert count_faces(photo) >= 1


@pytest.mark.parametrize(
    ("filename", "words"),
    [
        ("beach_sunset_2023.jpg", ["beach", "sunset"]),
        ("BeachSunset.png", ["beach", "sunset"]),
        ("IMG_1234.JPG", []),
        ("DSC_0001.jpg", []),
        ("PXL_20230101_123456789.jpg", []),
        ("WhatsApp Image 2023-01-01 at 10.00.00.jpeg", []),
        ("3f2a9c1e-77bd-4c1a-9f2b-deadbeef0001.jpg", []),
        ("../../my dog Rex.heic", ["dog", "rex"]),
    ],
)
def test_filename_words_skip_camera_names_and_ids(filename: str, words: list[str]) -> None:
    """Only dictionary-looking words of a file name become cues."""
    assert words == filename_words(filename)


def test_exif_time_gives_season_and_time_of_day() -> None:
    """A July evening is a summer evening (northern hemisphere)."""
    taken = datetime(2023, 7, 14, 19, 30)  # noqa: DTZ001 - EXIF times are local, naive

    assert ("summer", "evening") == (season(taken), time_of_day(taken))


def test_summary_names_objects_and_colours() -> None:
    """Objects best-first with articles, then the two main colours, in one sentence."""
    cues = VisualCues(
        colors=["blue", "white", "green"],
        detections=detections(("person", 0.6), ("kite", 0.5), ("car", 0.4)),
    )

    assert (
        "A photo with a person, a kite and a car, mostly blue and white."
        == (describe(cues)["summary"])
    )


def test_people_are_counted_in_words() -> None:
    """Several confident person boxes read as a number of people, with EXIF context."""
    cues = VisualCues(
        detections=detections(("person", 0.7), ("person", 0.5), ("person", 0.2)),
        season="winter",
        time_of_day="morning",
    )

    assert "A photo with two people, taken on a winter morning." == describe(cues)["summary"]


@pytest.mark.parametrize(
    ("cues", "category"),
    [
        (VisualCues(detections=detections(("person", 0.8))), "people"),
        (VisualCues(detections=detections(("dog", 0.7), ("frisbee", 0.3))), "animals"),
        (VisualCues(detections=detections(("pizza", 0.6), ("dining table", 0.5))), "food"),
        (VisualCues(detections=detections(("bus", 0.6), ("person", 0.3))), "vehicles"),
        (VisualCues(text=" ".join(["word"] * 30)), "documents"),
        (VisualCues(filename_words=["screenshot"]), "screenshots"),
        (VisualCues(faces=2), "people"),
        (VisualCues(colors=["gray"]), "other"),
    ],
)
def test_category_follows_the_strongest_cue(cues: VisualCues, category: str) -> None:
    """Objects, faces, text and file-name words vote for a category; nothing means other."""
    assert category == describe(cues)["category"]


def test_tags_setting_and_objects_from_cues() -> None:
    """Tags hold classes, their broader words, the category, place, file-name words, season."""
    cues = VisualCues(
        detections=detections(("dog", 0.7), ("car", 0.4)),
        filename_words=["park"],
        season="autumn",
        time_of_day="afternoon",
    )

    analysis = describe(cues)

    assert ["dog", "car"] == analysis["objects"]
    assert "outdoor, afternoon" == analysis["setting"]
    assert ["dog", "car", "animals", "outdoor", "afternoon", "park", "autumn"] == analysis["tags"]


async def test_local_provider_analyzes_offline_without_tagger() -> None:
    """The provider works with no network, no key and no Node: colours, text and provenance."""
    provider = LocalProvider(tagger=None)
    image = printed("HELLO WORLD")
    taken = datetime(2024, 1, 5, 23, 0)  # noqa: DTZ001 - EXIF times are local, naive

    result = await provider.analyze(
        ImageInput(
            data=jpeg(image),
            width=image.width,
            height=image.height,
            filename="shop_sign.jpg",
            taken_at=taken,
            camera="Canon EOS R5",
        )
    )
    await provider.aclose()

    assert ("local", "local-v2") == (result.provider, result.model)
    assert "white" == result.analysis.colors[0]
    assert {"shop", "sign", "winter"} <= set(result.analysis.tags)
    assert "Canon EOS R5" in result.analysis.description
    assert "centernet-coco80" not in result.raw["detectors"]
    if shutil.which("tesseract"):
        assert "HELLO WORLD" == result.analysis.text
    assert "camera photo" == result.analysis.likely_source
