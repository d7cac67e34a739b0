"""Synthetic schema v2 analyses of social-post screenshots, and queries that target their fields.

The golden photos have no screenshots, so the v2 fields (headline, places, poster, hashtags,
prices in the visible text) are measured on posts generated here: 60 travel and food posts over
ten places and ten topics, shaped like a vision model's v2 answer, with the interface text a real
screenshot carries ("Liked by ... and 1,204 others"). Each post gets four queries: place and
topic, poster and city, its price, and its headline's claim in other words. Every query has
exactly one right post (the combinations are unique by construction).
"""

from __future__ import annotations

from collections.abc import Iterator

from collections_shared.domain.analysis import Analysis

PLACES = (
    ("Tokyo", "Shinjuku", "¥{}", (1200, 980, 1500, 2400, 800, 3200)),
    ("Kyoto", "Gion", "¥{}", (1800, 650, 2200, 1100, 4500, 900)),
    ("Paris", "Le Marais", "€{}", (12, 8, 15, 22, 6, 30)),
    ("Lisbon", "Alfama", "€{}", (9, 4, 11, 18, 3, 25)),
    ("Mexico City", "Roma Norte", "MX${}", (85, 45, 120, 250, 60, 300)),
    ("New York", "Williamsburg", "${}", (18, 7, 24, 35, 5, 42)),
    ("Bangkok", "Chinatown", "฿{}", (120, 60, 250, 400, 80, 550)),
    ("Barcelona", "El Born", "€{}", (14, 5, 19, 28, 7, 33)),
    ("Seoul", "Hongdae", "₩{}", (9000, 4500, 12000, 18000, 6000, 25000)),
    ("Istanbul", "Karaköy", "₺{}", (250, 90, 400, 650, 120, 800)),
)
TOPICS = (
    ("ramen", "restaurant", "noodles", "best {t} in {n}"),
    ("tacos", "street food", "food", "{t} you can't miss in {n}"),
    ("specialty coffee", "cafe", "coffee", "where to get {t} in {n}"),
    ("rooftop bar", "nightlife", "cocktails", "{n}'s secret {t}"),
    ("sunrise hike", "outdoors", "viewpoint", "a {t} above {n}"),
    ("second-hand bookshop", "shopping", "books", "a tiny {t} in {n}"),
    ("contemporary art museum", "culture", "art", "the {t} in {n} is free on sundays"),
    ("croissant bakery", "bakery", "pastry", "the flakiest {t} in {n}"),
    ("night market", "market", "street food", "{n} {t} guide"),
    ("vintage clothing", "shopping", "fashion", "{t} finds in {n}"),
)
POSTERS = (
    "@wanderlust.jo", "@eatwithmika", "@citybites", "@slowtravelsam", "@noodle.nomad",
    "@petitpalais_fan", "@budgetbackpack", "@chef.on.tour",
)  # fmt: skip
APPS = ("instagram", "tiktok", "pinterest", "x")
CHROME = {
    "instagram": ["Follow", "Liked by travel.daily and 1,204 others", "View all 48 comments"],
    "tiktok": ["For You", "Following", "original sound", "12.4K", "Share"],
    "pinterest": ["Save", "Visit site", "More to explore"],
    "x": ["Repost", "Quote", "1,024 Views", "Reply to this post"],
}
REWORDED = {
    "ramen": "a great bowl of noodle soup",
    "tacos": "must-eat tortillas",
    "specialty coffee": "a good flat white",
    "rooftop bar": "drinks with a view over the city",
    "sunrise hike": "a morning walk to a lookout",
    "second-hand bookshop": "a small used-books store",
    "contemporary art museum": "a modern art gallery with free entry",
    "croissant bakery": "buttery pastries for breakfast",
    "night market": "food stalls after dark",
    "vintage clothing": "retro second-hand fashion",
}


def social_posts() -> Iterator[tuple[Analysis, dict[str, str]]]:
    """Each post's analysis and its queries by kind."""
    for index in range(60):
        city, area, currency, prices = PLACES[index % len(PLACES)]
        topic, kind, word, pattern = TOPICS[(index * 3 + index // 10) % len(TOPICS)]
        price = currency.format(f"{prices[index // 10]:,}")
        poster = POSTERS[(index + index // 10) % len(POSTERS)]
        app = APPS[index % len(APPS)]
        headline = pattern.format(t=topic, n=area).capitalize()
        tag = word.replace(" ", "")
        caption = f"{headline} - {price} and worth every bit. Saved for the next trip!"
        lines = [poster, caption, f"#{tag} #{city.lower().replace(' ', '')}", *CHROME[app]]
        analysis = Analysis(
            category="screenshots",
            headline=headline,
            summary=f"A {app} post by {poster} recommending a {topic} in {area}, {city}.",
            description=f"A phone screenshot of a {app} post with a photo of the {topic}, the "
            f"caption with the price, and the account's hashtags below.",
            subcategories=["travel tip", kind],
            tags=[topic, kind, word, city.lower(), "travel"],
            objects=["phone screen", "photo"],
            text_lines=lines,
            text="\n".join(lines),
            places=[area, city],
            poster=poster,
            hashtags=[f"#{tag}", f"#{city.lower().replace(' ', '')}"],
            themes=["travel", kind],
            vibes=["casual"],
            key_interest=f"{topic} for {price}",
            likely_source=app,
        )
        queries = {
            "place + topic": f"{REWORDED[topic]} in {area}",
            "poster + city": f"{poster} post about {city}",
            "price": f"{topic} for {price}",
            "headline reworded": f"{REWORDED[topic]} {city}",
        }
        yield analysis, queries
