"""Build sample_data/reviews.csv, the dataset `make run` offers to try.

Texts: the 1,000 Amazon sentences of UCI "Sentiment Labelled Sentences" (CC BY 4.0, Kotzias et al.,
KDD 2015). Dates, products, channels and star ratings are synthetic and seeded, with one story in
them: the "Volt charger" gets a run of negative reviews in the last weeks, so the dashboard and the
alerts have something to find.
"""
import csv
import random
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "data" / "sentiment" / "amazon_cells_labelled.txt"
OUT = ROOT / "sample_data" / "reviews.csv"
PRODUCTS = ["Aria headset", "Volt charger", "Nimbus phone case", "Pulse earbuds", "Orbit phone"]
CHANNELS = ["Web shop", "Marketplace", "App store", "Retail partner"]


def main() -> None:
    rng = random.Random(7)
    rows = []
    for line in SOURCE.read_text(encoding="utf-8", errors="replace").splitlines():
        text, _, label = line.rpartition("\t")
        if text and label.strip() in ("0", "1"):
            rows.append((text.strip(), int(label)))
    positives = [t for t, y in rows if y == 1]
    negatives = [t for t, y in rows if y == 0]
    rng.shuffle(positives)
    rng.shuffle(negatives)
    start = date(2026, 6, 1)
    out = []
    for day in range(170):
        when = start + timedelta(days=day)
        for _ in range(rng.randint(3, 8)):
            product = rng.choice(PRODUCTS)
            late_trouble = product == "Volt charger" and day >= 140
            negative = rng.random() < (0.8 if late_trouble else 0.42)
            pool = negatives if negative else positives
            if not pool:
                continue
            text = pool.pop()
            rating = rng.choice([1, 1, 2, 3]) if negative else rng.choice([3, 4, 5, 5])
            out.append(
                {
                    "review_id": f"R{len(out) + 1:05d}",
                    "date": when.isoformat(),
                    "product": product,
                    "channel": rng.choice(CHANNELS),
                    "rating": rating,
                    "review": text,
                }
            )
            if not negatives and not positives:
                break
    OUT.parent.mkdir(exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(out[0]))
        writer.writeheader()
        writer.writerows(out)
    print(f"wrote {len(out)} reviews to {OUT}")


if __name__ == "__main__":
    main()
