"""Sentiment figures: accuracy per language, end-to-end speed and memory of the embedded default,
beside the MiniLM + VADER head it replaced and VADER alone.

Run: .venv/bin/python bench/sentiment.py [--big 100000]
- accuracy, read as binary (score >= 0 is positive), and macro F1 of the three-way label against
  the two true ones (a neutral answer counts against both classes), per language on
  bench/data/reviews_multilingual.tsv (66 reviews in each of English, Romanian, Polish, Chinese and
  German, written for this benchmark; nothing is trained on it), for today's head and for the
  MiniLM + VADER head Mercury shipped before (bench/data/minilm_vader_head.json);
- 5-fold cross-validation on the Amazon sentences of ../shared/data/sentiment (each fold's head is
  refitted without the rows it is tested on), and the English other-domain set bench/data/other_domains.tsv;
- speed: `python -m core sentiment` on 2,000 distinct short reviews in a fresh process and a fresh
  database, model load included;
- memory: peak resident memory of that command on --big rows (default 100,000).
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.train_sentiment_head import load_labelled  # noqa: E402


def other_domains() -> tuple[list[str], np.ndarray]:
    rows = [line.rsplit("\t", 1) for line in (ROOT / "bench" / "data" / "other_domains.tsv").read_text().splitlines() if line]
    return [r[0] for r in rows], np.array([int(r[1]) for r in rows])


def accuracy(scores, labels) -> float:
    return round(float(np.mean((np.asarray(scores) >= 0) == (labels == 1))), 3)


def macro_f1(predicted: list[str], labels: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    truth = np.where(labels == 1, "positive", "negative")
    return round(float(f1_score(truth, predicted, labels=["negative", "positive"], average="macro", zero_division=0)), 3)


def multilingual() -> tuple[list[str], list[str], np.ndarray]:
    rows = [
        line.split("\t")
        for line in (ROOT / "bench" / "data" / "reviews_multilingual.tsv").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    return [r[0] for r in rows], [r[3] for r in rows], np.array([int(r[1] == "positive") for r in rows])


def per_language(scores: np.ndarray, languages: list[str], labels: np.ndarray) -> dict:
    from core.models.sentiment import label_for

    out = {}
    for code in dict.fromkeys(languages):
        mask = np.array([language == code for language in languages])
        out[code] = {
            "rows": int(mask.sum()),
            "accuracy": accuracy(scores[mask], labels[mask]),
            "macro_f1": macro_f1([label_for(float(s)) for s in scores[mask]], labels[mask]),
        }
    return out


def old_head_scores(texts: list[str]) -> np.ndarray:
    """Scores of the MiniLM + VADER head Mercury shipped before the multilingual encoder."""
    from core.models.encoders import MiniLMEncoder, vader_features

    head = json.loads((ROOT / "bench" / "data" / "minilm_vader_head.json").read_text())
    features = np.hstack([MiniLMEncoder().encode(texts), vader_features(texts)])
    return 2 / (1 + np.exp(-(features @ np.array(head["coef"]) + head["intercept"]))) - 1


def write_reviews(path: Path, n: int, seed: int = 0) -> None:
    """n distinct short reviews built from the Amazon sentences (a suffix keeps every text new to the cache)."""
    texts, _ = load_labelled()
    rng = random.Random(seed)
    tails = ["", " Overall that is my view.", " Just my experience.", " Bought it last month.", " Would say the same again."]
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,date,product,review\n")
        for i in range(n):
            text = texts[i % len(texts)] + tails[(i // len(texts)) % len(tails)] + (f" (#{i})" if i >= len(texts) * len(tails) else "")
            handle.write(f'{i},2026-0{1 + i % 9}-{1 + i % 28:02d},P{rng.randint(1, 20)},"{text.replace(chr(34), chr(39))}"\n')


def run_cli(path: Path) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        env = {"DATABASE_URL": f"sqlite:///{scratch}/bench.db", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "core", "sentiment", str(path), "--out", f"{scratch}/out.csv", "--json"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.returncode:
        raise SystemExit(result.stderr)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "rows": summary["rows"],
        "seconds": round(elapsed, 1),
        "rows_per_s": round(summary["rows"] / elapsed, 1),
        "peak_rss_mib": round(max(peak_kib, before) / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big", type=int, default=0, help="also measure memory and time on this many rows")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from core.classifiers import get_classifier
    from core.models.encoders import encoder, vader_features

    figures: dict = {}
    languages, ml_texts, ml_labels = multilingual()
    today = np.array([s.score for s in get_classifier().classify(ml_texts)])
    figures["per_language"] = {
        "e5 head (today)": per_language(today, languages, ml_labels),
        "MiniLM + VADER head (before)": per_language(old_head_scores(ml_texts), languages, ml_labels),
    }
    texts, labels = load_labelled()
    X = encoder().encode(texts)
    head = json.loads((ROOT / "core" / "assets" / "sentiment_head.json").read_text())
    fold_scores = np.zeros(len(texts))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, labels):
        model = LogisticRegression(C=head["C"], max_iter=5000).fit(X[train], labels[train])
        fold_scores[test] = 2 * model.predict_proba(X[test])[:, 1] - 1
    figures["amazon_cv_accuracy"] = accuracy(fold_scores, labels)
    t0 = time.perf_counter()
    vader_amazon = vader_features(texts)[:, 0]
    figures["vader_amazon_accuracy"] = accuracy(vader_amazon, labels)
    figures["vader_rows_per_s"] = round(len(texts) / (time.perf_counter() - t0))

    other_texts, other_labels = other_domains()
    scored = get_classifier().classify(other_texts)
    figures["other_domains_rows"] = len(other_texts)
    figures["other_domains_accuracy"] = accuracy([s.score for s in scored], other_labels)
    figures["vader_other_domains_accuracy"] = accuracy(vader_features(other_texts)[:, 0], other_labels)

    with tempfile.TemporaryDirectory() as scratch:
        small = Path(scratch) / "reviews_2000.csv"
        write_reviews(small, 2000)
        figures["cli_2000_rows"] = run_cli(small)
        if args.big:
            big = Path(scratch) / f"reviews_{args.big}.csv"
            write_reviews(big, args.big)
            figures[f"cli_{args.big}_rows"] = run_cli(big)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
