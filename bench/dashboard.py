"""The Sentiment dashboard's server time per filter change on 100,000 reviews.

Run: .venv/bin/python bench/dashboard.py [--rows 100000]
A dataset of --rows reviews is stored in a throwaway database (the sample file's texts, products
and channels over two years of dates), given labels, languages and themes straight in the database
(scoring 100,000 texts is bench/throughput.py's business, not the dashboard's), and the Sentiment
page is run under Streamlit's AppTest: the time of each rerun is the server time a person waits
after opening the page, changing the period, the products, the channels and the trend bucket.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
WORK = Path(tempfile.mkdtemp(prefix="mercury-dashboard-"))
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.db'}"
os.environ["MERCURY_DATA_DIR"] = str(WORK)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sqlalchemy import update  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from core.db import Review, session_scope  # noqa: E402
from core.ingest import Table, read_table  # noqa: E402
from core.sentiment.datasets import create_dataset  # noqa: E402

THEMES = ["price", "delivery", "quality", "support", "battery", "sound", "usability"]


def seed(rows: int) -> int:
    sample = read_table(ROOT / "sample_data" / "reviews.csv").frame
    frame = sample.sample(n=rows, replace=True, random_state=0).reset_index(drop=True)
    frame["id"] = [f"R{i:06d}" for i in range(rows)]
    start = pd.Timestamp("2024-12-01")
    frame["date"] = (start + pd.to_timedelta(np.random.default_rng(0).integers(0, 730, rows), unit="D")).strftime("%Y-%m-%d")
    dataset_id = create_dataset(
        Table(frame, "bench.csv"),
        {"text": "review", "date": "date", "product": "product", "channel": "channel", "rating": "rating", "id": "id"},
        "Bench reviews",
    )
    labels = {5: "positive", 4: "positive", 3: "neutral", 2: "negative", 1: "negative"}
    with session_scope() as session:
        for rating, label in labels.items():
            for index, theme in enumerate(THEMES):
                session.execute(
                    update(Review)
                    .where(Review.dataset_id == dataset_id, Review.rating == rating, Review.row_index % len(THEMES) == index)
                    .values(sentiment=label, score=(rating - 3) / 2, confidence=0.9, model="bench", language="en", themes=theme)
                )
        session.commit()
    return dataset_id


def timed(label: str, action) -> float:
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    print(f"  {label:<38} {seconds:6.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    started = time.perf_counter()
    dataset_id = seed(args.rows)
    print(f"{args.rows:,} reviews stored in {time.perf_counter() - started:.1f} s (dataset {dataset_id})")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=600).run()
    print("server time per rerun of the Sentiment page:")
    timed("open the page", lambda: at.switch_page("app_pages/sentiment.py").run())
    assert not at.exception, at.exception
    products = at.multiselect(key="sentiment_products").options
    channels = at.multiselect(key="sentiment_channels").options
    changes = [
        ("a product", lambda: at.multiselect(key="sentiment_products").select(products[0]).run()),
        ("a second product", lambda: at.multiselect(key="sentiment_products").select(products[1]).run()),
        ("a channel", lambda: at.multiselect(key="sentiment_channels").select(channels[0]).run()),
        ("trend by month", lambda: at.selectbox(key="sentiment_every").select("month").run()),
        (
            "the whole period",
            lambda: at.date_input(key="sentiment_period").set_value((pd.Timestamp("2024-12-01").date(), pd.Timestamp("2026-11-30").date())).run(),
        ),
        ("products cleared", lambda: at.multiselect(key="sentiment_products").set_value([]).run()),
    ]
    seconds = [timed(label, change) for label, change in changes]
    assert not at.exception, at.exception
    print(f"filter change: median {np.median(seconds):.2f} s, worst {max(seconds):.2f} s over {len(seconds)} changes")


if __name__ == "__main__":
    main()
