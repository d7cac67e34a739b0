"""The object detector's vocabulary (COCO's 80 classes) and what each class says about an image."""

from __future__ import annotations

_GROUPS: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("people", 1.0, ("person",)),
    ("animals", 1.0, (
        "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe",
    )),
    ("food", 1.0, (
        "banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza",
        "donut", "cake",
    )),
    # Tableware votes for "food" at half weight: a cup alone is not a meal.
    ("food", 0.5, (
        "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "dining table",
    )),
    ("vehicles", 1.0, (
        "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    )),
    ("sports", 1.0, (
        "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove",
        "skateboard", "surfboard", "tennis racket",
    )),
    ("interior", 0.8, (
        "chair", "couch", "potted plant", "bed", "toilet", "tv", "laptop", "mouse", "remote",
        "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
        "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
    )),
    ("city", 0.8, ("traffic light", "fire hydrant", "stop sign", "parking meter", "bench")),
    ("objects", 0.6, ("backpack", "umbrella", "handbag", "tie", "suitcase")),
)  # fmt: skip

CLASS_CATEGORY: dict[str, tuple[str, float]] = {
    name: (category, weight) for category, weight, names in _GROUPS for name in names
}
"""The analysis category each detected class votes for, and how much one detection counts."""

COCO_CLASSES = frozenset(CLASS_CATEGORY)

INDOOR_CLASSES = frozenset(
    {
        "bed", "couch", "tv", "toilet", "sink", "refrigerator", "oven", "microwave", "toaster",
        "dining table", "laptop", "keyboard", "mouse", "book", "clock", "vase", "teddy bear",
        "hair drier", "toothbrush", "potted plant",
    }
)  # fmt: skip
OUTDOOR_CLASSES = frozenset(
    {
        "car", "bus", "train", "truck", "boat", "airplane", "motorcycle", "bicycle",
        "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "kite", "skis",
        "snowboard", "surfboard", "horse", "sheep", "cow", "elephant", "bear", "zebra",
        "giraffe",
    }
)  # fmt: skip

# Plural forms English does not build with a plain "s".
IRREGULAR_PLURALS = {
    "person": "people",
    "mouse": "mice",
    "knife": "knives",
    "sheep": "sheep",
    "skis": "skis",
    "scissors": "scissors",
    "bus": "buses",
    "wine glass": "wine glasses",
    "sandwich": "sandwiches",
    "toothbrush": "toothbrushes",
    "hot dog": "hot dogs",
}

# Broader words people search for, added as tags next to the class name.
CLASS_TAGS = {
    "person": ("people",),
    "dining table": ("table",),
    "potted plant": ("plant",),
    "cell phone": ("phone",),
    "tv": ("television",),
    "couch": ("sofa",),
    "sports ball": ("ball",),
    "teddy bear": ("toy",),
    "suitcase": ("luggage",),
    "airplane": ("plane",),
    "motorcycle": ("motorbike",),
    "laptop": ("computer",),
}

# Words of a file name that hint at a category (a weak vote, below any detection).
FILENAME_CATEGORY = {
    **dict.fromkeys(
        ("beach", "sunset", "sunrise", "mountain", "mountains", "lake", "forest", "hike",
         "landscape", "sea", "ocean", "valley", "desert"),
        "landscape",
    ),
    **dict.fromkeys(("garden", "flower", "flowers", "tree", "trees", "park", "nature"), "nature"),
    **dict.fromkeys(("city", "street", "downtown", "skyline"), "city"),
    **dict.fromkeys(("dinner", "lunch", "breakfast", "food", "meal", "recipe"), "food"),
    **dict.fromkeys(("dog", "cat", "puppy", "kitten", "pet", "bird", "horse"), "animals"),
    **dict.fromkeys(("wedding", "party", "birthday", "concert", "festival"), "events"),
    **dict.fromkeys(("receipt", "invoice", "document", "scan", "letter", "notes"), "documents"),
    **dict.fromkeys(("screenshot", "screencap"), "screenshots"),
    **dict.fromkeys(("selfie", "portrait", "family", "friends"), "people"),
    **dict.fromkeys(("car", "train", "plane", "bike", "boat"), "vehicles"),
}  # fmt: skip
