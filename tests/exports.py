"""Review exports shaped like a large vendor's (Datafiniti's Amazon device reviews): the exact twelve
column names, a byte-order mark, a decoy date column (`dateAdded`, when the row was crawled), shop
categories as a comma list, product names holding commas, four years of history with most of the
volume in the last two, and ratings skewed to five stars. The review texts are composed from
sentences written for these tests (informal wording included), so no two rows need be the same."""
from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = [
    "id", "dateAdded", "name", "asins", "brand", "categories", "reviews.date", "reviews.doRecommend",
    "reviews.rating", "reviews.text", "reviews.title", "reviews.username",
]
PRODUCTS = [
    (
        "All-New Fire HD 8 Tablet, 8 HD Display, Wi-Fi, 16 GB - Includes Special Offers, Magenta",
        "B01AHB9CN2",
        "Fire Tablets,Tablets,Computers & Tablets,All Tablets",
    ),
    ("Kindle Paperwhite E-reader, 6 High-Resolution Display (300 ppi), Wi-Fi", "B00OQVZDJM", "eBook Readers,Kindle E-readers,Computers & Tablets"),
    ("Amazon Echo Show Alexa-enabled Bluetooth Speaker with 7 Screen", "B01J24C0TI", "Amazon Echo,Smart Home,Speakers,Electronics"),
    ("Fire Kids Edition Tablet, 7 Display, Wi-Fi, 16 GB, Blue Kid-Proof Case", "B018Y229OU", "Fire Tablets,Kids' Tablets,Computers & Tablets"),
    ("Amazon Fire TV Stick with Alexa Voice Remote, Streaming Media Player", "B00ZV9PXP2", "Streaming Media Players,TV & Video,Electronics"),
]
GOOD_OPEN = [
    "Bought this for my mom and she loves it.",
    "Great value for the price.",
    "I use it every single day.",
    "Got it on sale, so happy with it.",
    "Second one I bought, still impressed.",
    "My kids are obsessed with this thing.",
    "Exactly what I needed.",
    "Gift for my husband, he uses it all the time.",
]
GOOD_BODY = [
    "The screen is bright and sharp and easy on the eyes.",
    "Battery lasts for days even with heavy use.",
    "Setup took five minutes, super easy.",
    "Reading at night is so comfortable with the light.",
    "Sound is surprisingly good for the size.",
    "Fast, responsive and the apps work fine.",
    "Alexa understands everything I ask.",
    "The case is sturdy and the kids cant break it.",
    "Streaming is smooth, no buffering at all.",
    "Light enough to hold in one hand for hours.",
]
GOOD_CLOSE = ["Highly recommend!", "Would buy again.", "Five stars.", "Love it.", "Worth every penny.", "Great product overall."]
BAD_OPEN = [
    "Very disappointed.",
    "Returned it after a week.",
    "Do not waste your money.",
    "Worst purchase this year.",
    "Stopped working after two months.",
    "Really wanted to like it.",
]
BAD_BODY = [
    "It would not load my books and support was no help.",
    "The screen is too dark to read even on full brightness.",
    "Battery dies in a few hours and it takes forever to charge.",
    "Freezes constantly and restarts on its own.",
    "The speaker crackles and Alexa never hears me.",
    "Wifi keeps dropping so nothing streams.",
    "Charging port broke and it will not turn on.",
    "Full of ads you cannot turn off.",
]
BAD_CLOSE = ["Avoid.", "Not worth it.", "Sending it back.", "Very frustrating.", "One star."]
TITLES_GOOD = ["Great tablet", "Love it", "Five stars", "Excellent", "Good value", "Perfect for reading", "Kids love it"]
TITLES_BAD = ["Disappointed", "Broke quickly", "Not good", "Returned it", "Waste of money"]


def amazon_export(rows: int = 5000, seed: int = 7, start: str = "2014-10-01", end: str = "2018-09-30") -> pd.DataFrame:
    """A frame with the vendor's columns; about 94% of ratings are 4 or 5 stars, and the text of a
    4-5 star review is praise, of a 1-2 star review a complaint, of a 3 star review either."""
    rng = np.random.default_rng(seed)
    stars = rng.choice([5, 4, 3, 2, 1], size=rows, p=[0.70, 0.24, 0.035, 0.01, 0.015])
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    span = (last - first).days
    # Volume grows over the years: most reviews are in the last two.
    offsets = (span * np.sqrt(rng.uniform(0.0, 1.0, size=rows))).astype(int)
    dates = first + pd.to_timedelta(np.sort(offsets), unit="D")
    records = []
    for i in range(rows):
        product, asin, categories = PRODUCTS[rng.integers(len(PRODUCTS))]
        good = stars[i] >= 4 or (stars[i] == 3 and rng.random() < 0.5)
        opener, body, closer = (GOOD_OPEN, GOOD_BODY, GOOD_CLOSE) if good else (BAD_OPEN, BAD_BODY, BAD_CLOSE)
        text = f"{rng.choice(opener)} {rng.choice(body)} {rng.choice(body)} {rng.choice(closer)}"
        records.append(
            {
                "id": f"AV{rng.integers(10**9):09d}",
                "dateAdded": f"{2017 + rng.integers(3)}-0{1 + rng.integers(9)}-1{rng.integers(10)}T0{rng.integers(10)}:15:00Z",
                "name": product,
                "asins": asin,
                "brand": "Amazon",
                "categories": categories,
                "reviews.date": dates[i].strftime("%Y-%m-%dT00:00:00.000Z"),
                "reviews.doRecommend": "TRUE" if good else "FALSE",
                "reviews.rating": str(stars[i]),
                "reviews.text": text,
                "reviews.title": str(rng.choice(TITLES_GOOD if good else TITLES_BAD)),
                "reviews.username": f"user{rng.integers(10**5)}",
            }
        )
    return pd.DataFrame(records, columns=COLUMNS)


def write_export(path, frame: pd.DataFrame) -> None:
    """As the vendor ships it: UTF-8 with a byte-order mark."""
    path.write_bytes(frame.to_csv(index=False).encode("utf-8-sig"))
