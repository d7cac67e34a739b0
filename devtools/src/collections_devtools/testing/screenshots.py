"""Phone screenshots drawn in memory, with the text they show, for OCR tests and benchmarks.

Each screenshot is preview-sized (the analyzer only sees the preview: 724 x 1568, a 1170 x 2532
phone screen scaled to 1568 px), with a status bar, an app's header, a photo (a golden photo when
the set is on this machine, else a drawn one), text lines over the photo with an outline or a
shadow, and caption and comment lines on the app's background. Fonts, sizes and contents vary by
seed; the same seed always draws the same image. The ground truth is every line drawn, with its
size bucket, so engines can be scored per text size.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from collections_devtools.testing.golden import GOLDEN

WIDTH, HEIGHT = 724, 1568
SIZES = {"small": (17, 21), "medium": (26, 32), "large": (40, 54)}
"""Text heights in preview pixels: small is a comment, medium a caption, large an overlay."""
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
)
APPS = ("instagram", "tiktok", "x", "notes")
FOOTERS = {
    "instagram": "Liked by travel.daily and {n} others",
    "tiktok": "Home  Friends  Inbox  Profile",
    "x": "Repost  Quote  {n} Views",
}
PLACES = ("Shinjuku", "Lisbon", "Brooklyn", "Kyoto", "Oaxaca", "Marrakech", "Hanoi", "Porto")
FOODS = ("ramen", "tacos", "pastel de nata", "pho", "croissants", "dumplings", "tagine")
PRICES = ("$12.50", "¥1,200", "€8", "£6.40", "MX$85", "₫45,000", "$4.99")
HANDLES = ("@tokyofoodie", "@wander.jo", "@eatwithmika", "@city_bites", "@slowtravelsam")
TAGS = ("#ramen", "#travel", "#foodie", "#streetfood", "#weekend", "#hiddengems")
WORDS = (
    "best", "hidden", "spot", "open", "late", "only", "locals", "queue", "worth", "every",
    "minute", "cash", "try", "the", "for", "near", "station", "closed", "mondays", "order",
)  # fmt: skip


@dataclass(frozen=True)
class DrawnLine:
    text: str
    size: str
    """``small``, ``medium`` or ``large`` (:data:`SIZES`)."""
    style: str
    """``plain``, ``outline`` or ``shadow``."""
    font: str


@dataclass
class Screenshot:
    """A drawn screenshot and everything it shows."""

    app: str
    lines: list[DrawnLine] = field(default_factory=list)
    image: Image.Image | None = None

    def jpeg(self, quality: int = 88) -> bytes:
        """The image as the preview derivative would be: a JPEG."""
        assert self.image is not None
        buffer = io.BytesIO()
        self.image.save(buffer, format="JPEG", quality=quality)
        return buffer.getvalue()

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def available_fonts() -> list[str]:
    """The font files of :data:`FONT_FILES` on this machine; Pillow's own font if none is."""
    found = [path for path in FONT_FILES if Path(path).is_file()]
    return found or ["<pillow-default>"]


def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    if path == "<pillow-default>":
        font = ImageFont.load_default(size)
        assert isinstance(font, ImageFont.FreeTypeFont)  # Pillow >= 10.1 with FreeType
        return font
    return ImageFont.truetype(path, size)


def _photo(rng: random.Random, width: int, height: int) -> Image.Image:
    """A golden photo cropped to the box, or a drawn landscape when the set is absent."""
    images = sorted((GOLDEN / "images").glob("*.jpg")) if (GOLDEN / "images").is_dir() else []
    if images:
        with Image.open(rng.choice(images)) as opened:
            photo = opened.convert("RGB")
        scale = max(width / photo.width, height / photo.height)
        photo = photo.resize((round(photo.width * scale) + 1, round(photo.height * scale) + 1))
        left, top = (photo.width - width) // 2, (photo.height - height) // 2
        return photo.crop((left, top, left + width, top + height))
    photo = Image.new("RGB", (width, height), (90, 140, 200))
    draw = ImageDraw.Draw(photo)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x, y, x + rng.randrange(40, 300), y + rng.randrange(40, 200)), fill=colour)
    return photo.filter(ImageFilter.GaussianBlur(3))


def _sentence(rng: random.Random, place: str, food: str) -> str:
    words = rng.sample(WORDS, 4)
    return f"{words[0].capitalize()} {food} {words[1]} {place} {words[2]} {words[3]}"


def _status_bar(paint: _Painter, ink: tuple[int, int, int]) -> None:
    """The clock and a battery: interface, not content, so not part of the ground truth."""
    clock = f"{paint.rng.randint(1, 12)}:{paint.rng.randint(0, 59):02d}"
    paint.line(clock, 36, 14, "small", colour=ink, record=False)
    paint.draw.rectangle((640, 22, 684, 40), outline=ink, width=2)


class _Painter:
    def __init__(self, shot: Screenshot, rng: random.Random, fonts: list[str]) -> None:
        self.shot, self.rng, self.fonts = shot, rng, fonts
        assert shot.image is not None
        self.draw = ImageDraw.Draw(shot.image)

    def line(
        self,
        text: str,
        x: int,
        y: int,
        size: str,
        *,
        style: str = "plain",
        colour: tuple[int, int, int] = (20, 20, 20),
        record: bool = True,
    ) -> int:
        """Draw ``text``, wrapped at the screen's right margin; returns the y below it."""
        font_path = self.rng.choice(self.fonts)
        font = _font(font_path, self.rng.randint(*SIZES[size]))
        for part in self._wrap(text, font, WIDTH - x - 24):
            y = self._one(part, (x, y), font, style, colour)
            if record:
                self.shot.lines.append(DrawnLine(part, size, style, Path(font_path).name))
        return y

    def _wrap(self, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
        parts: list[str] = []
        for word in text.split():
            if parts and self.draw.textlength(f"{parts[-1]} {word}", font=font) <= width:
                parts[-1] = f"{parts[-1]} {word}"
            else:
                parts.append(word)
        return parts

    def _one(
        self,
        text: str,
        at: tuple[int, int],
        font: ImageFont.FreeTypeFont,
        style: str,
        colour: tuple[int, int, int],
    ) -> int:
        x, y = at
        image = self.shot.image
        assert image is not None
        if style == "shadow":
            shadow = Image.new("L", image.size, 0)
            ImageDraw.Draw(shadow).text((x + 3, y + 3), text, fill=200, font=font)
            image.paste((0, 0, 0), mask=shadow.filter(ImageFilter.GaussianBlur(3)))
        stroke = 3 if style == "outline" else 0
        self.draw.text(
            (x, y), text, fill=colour, font=font, stroke_width=stroke, stroke_fill=(0, 0, 0)
        )
        box = self.draw.textbbox((x, y), text, font=font, stroke_width=stroke)
        return round(box[3]) + max(8, round(font.size) // 3)


def draw_screenshot(seed: int) -> Screenshot:
    """A phone screenshot of a social post or a note, deterministic per ``seed``."""
    rng = random.Random(seed)  # noqa: S311 - test images, not secrets
    app = APPS[seed % len(APPS)]
    dark = app == "tiktok"
    background = (16, 16, 16) if dark else (255, 255, 255)
    ink = (240, 240, 240) if dark else (20, 20, 20)
    shot = Screenshot(app=app, image=Image.new("RGB", (WIDTH, HEIGHT), background))
    paint = _Painter(shot, rng, available_fonts())
    place, food, price = rng.choice(PLACES), rng.choice(FOODS), rng.choice(PRICES)
    handle, tags = rng.choice(HANDLES), rng.sample(TAGS, 2)
    if app == "notes":
        _status_bar(paint, ink)
        y = paint.line(f"{food.capitalize()} in {place}", 40, 110, "large", colour=ink)
        for _ in range(6):
            y = paint.line(_sentence(rng, place, food), 40, y + 10, "medium", colour=ink)
        paint.line(f"{price} per person, cash only", 40, y + 10, "medium", colour=ink)
        return shot
    top, bottom = (0, HEIGHT - 330) if dark else (210, 990)
    assert shot.image is not None
    shot.image.paste(_photo(rng, WIDTH, bottom - top), (0, top))
    _status_bar(paint, (255, 255, 255) if dark else ink)
    header = {"instagram": "Instagram", "tiktok": "Following  For You", "x": "Post"}[app]
    paint.line(
        header, 40 if not dark else 180, 70, "medium", colour=(255, 255, 255) if dark else ink
    )
    if app != "tiktok":
        paint.line(handle, 40, 150, "medium", colour=ink)
    overlay_style = rng.choice(["outline", "shadow"])
    y = top + 120
    for text in (f"{food.upper()} IN {place.upper()}", f"only {price}"):
        y = paint.line(text, 50, y, "large", style=overlay_style, colour=(255, 255, 255))
    y = bottom + 24
    if app == "tiktok":
        y = paint.line(handle, 40, y, "medium", colour=ink)
    y = paint.line(
        f"{_sentence(rng, place, food)} {tags[0]} {tags[1]}", 40, y, "medium", colour=ink
    )
    for _ in range(3):
        commenter = rng.choice(HANDLES).lstrip("@")
        y = paint.line(
            f"{commenter} {_sentence(rng, place, food).lower()}", 40, y + 6, "small", colour=ink
        )
    # The app's own controls below the post: interface text, but text on the screen all the same.
    paint.line(FOOTERS[app].format(n=rng.randint(12, 9999)), 40, y + 10, "small", colour=ink)
    return shot
