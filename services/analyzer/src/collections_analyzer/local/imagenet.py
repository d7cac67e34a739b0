"""What an ImageNet-1k class says about a photo: the words people search for, and a category.

ImageNet's classes are fine-grained (118 dog breeds, "four-poster bed", "lakeshore"); a search
for "dog" or "lake" must still find them. Classes are grouped by their index ranges (ImageNet
orders its classes by the WordNet hierarchy) into broader tags and the analysis category they
vote for; a few object classes get a broader noun too ("mountain bike" is also a "bike").
"""

from __future__ import annotations

import re

_RANGES: tuple[tuple[range, tuple[str, ...], str], ...] = (
    (range(0, 7), ("fish", "animal"), "animals"),
    (range(7, 25), ("bird", "animal"), "animals"),
    (range(25, 33), ("amphibian", "animal"), "animals"),
    (range(33, 52), ("reptile", "animal"), "animals"),
    (range(52, 69), ("snake", "reptile", "animal"), "animals"),
    (range(69, 80), ("animal",), "animals"),
    (range(80, 101), ("bird", "animal"), "animals"),
    (range(101, 107), ("animal", "wildlife"), "animals"),
    (range(107, 127), ("sea creature", "animal"), "animals"),
    (range(127, 147), ("bird", "animal"), "animals"),
    (range(147, 151), ("sea mammal", "animal"), "animals"),
    (range(151, 269), ("dog", "pet", "animal"), "animals"),
    (range(269, 281), ("wild dog", "wildlife", "animal"), "animals"),
    (range(281, 286), ("cat", "pet", "animal"), "animals"),
    (range(286, 294), ("big cat", "wildlife", "animal"), "animals"),
    (range(294, 298), ("bear", "wildlife", "animal"), "animals"),
    (range(298, 300), ("animal", "wildlife"), "animals"),
    (range(300, 327), ("insect", "animal"), "animals"),
    (range(327, 330), ("sea creature", "animal"), "animals"),
    (range(330, 339), ("small animal", "animal"), "animals"),
    (range(339, 340), ("horse", "animal"), "animals"),
    (range(340, 365), ("animal", "wildlife"), "animals"),
    (range(365, 385), ("monkey", "primate", "animal"), "animals"),
    (range(385, 387), ("elephant", "animal"), "animals"),
    (range(387, 389), ("panda", "animal"), "animals"),
    (range(389, 398), ("fish", "animal"), "animals"),
    (range(924, 970), ("food",), "food"),
    (range(984, 999), ("plant", "nature"), "nature"),
)
SCENES: dict[str, tuple[tuple[str, ...], str]] = {
    "mountain": (("mountains", "landscape", "outdoor"), "landscape"),
    "cliff": (("landscape", "outdoor", "rocks"), "landscape"),
    "coral reef": (("sea", "underwater"), "nature"),
    "geyser": (("landscape", "outdoor"), "landscape"),
    "lakeshore": (("lake", "water", "landscape", "outdoor"), "landscape"),
    "promontory": (("coast", "sea", "landscape", "outdoor"), "landscape"),
    "sandbar": (("beach", "sand", "sea", "outdoor"), "landscape"),
    "beach": (("sea", "sand", "outdoor"), "landscape"),
    "valley": (("landscape", "outdoor"), "landscape"),
    "volcano": (("mountain", "landscape", "outdoor"), "landscape"),
    "baseball player": (("person", "baseball", "sports"), "sports"),
    "bridegroom": (("person", "wedding"), "events"),
    "scuba diver": (("person", "diving", "underwater"), "sports"),
    "plate": (("food", "meal"), "food"),
    "menu": (("restaurant", "text"), "documents"),
    "tea cup": (("cup", "drink"), "food"),
}
# Object classes whose last word is a noun people search for, and the category it suggests.
HEAD_NOUNS: dict[str, str] = {
    "car": "vehicles", "bike": "vehicles", "bicycle": "vehicles", "boat": "vehicles",
    "ship": "vehicles", "bus": "vehicles", "truck": "vehicles", "train": "vehicles",
    "locomotive": "vehicles", "airliner": "vehicles", "plane": "vehicles", "van": "vehicles",
    "motorcycle": "vehicles", "scooter": "vehicles", "tram": "vehicles", "canoe": "vehicles",
    "bed": "interior", "table": "interior", "chair": "interior", "sofa": "interior",
    "couch": "interior", "lamp": "interior", "desk": "interior", "bookcase": "interior",
    "bridge": "architecture", "church": "architecture", "tower": "architecture",
    "palace": "architecture", "castle": "architecture", "house": "architecture",
    "mosque": "architecture", "dome": "architecture", "shop": "city", "store": "city",
    "station": "city", "fountain": "city", "ball": "sports", "racket": "sports",
    "ski": "sports", "helmet": "objects", "umbrella": "objects", "bag": "objects",
    "backpack": "objects", "suitcase": "objects", "guitar": "objects", "piano": "objects",
    "phone": "objects", "computer": "objects", "laptop": "objects", "clock": "objects",
    "bottle": "food", "cup": "food", "glass": "food", "dress": "people", "gown": "people",
    "suit": "people", "jersey": "sports", "kite": "sports", "sign": "city",
}  # fmt: skip
RENAMED = {"kite (bird of prey)": "bird of prey"}
"""Names that would read as something else ("kite" is the bird, not the toy)."""


def display_name(name: str) -> str:
    """The class name as a tag: lowercase, without ImageNet's parenthesised gloss."""
    name = RENAMED.get(name, name)
    return re.sub(r"\s*\(.*?\)", "", name).strip().lower()


def class_terms(index: int, name: str) -> tuple[list[str], str]:
    """The tags a class adds (its own name first) and the category it votes for ('' none)."""
    label = display_name(name)
    if label in SCENES:
        tags, category = SCENES[label]
        return [label, *tags], category
    for indexes, tags, category in _RANGES:
        if index in indexes:
            return [label, *tags], category
    head = label.rsplit(" ", 1)[-1].rsplit("-", 1)[-1]
    if head in HEAD_NOUNS:
        return list(dict.fromkeys([label, head])), HEAD_NOUNS[head]
    return [label], ""
