"""Re-create core/assets/sentiment_head.json: the embedded sentiment classifier's logistic-regression head.

Trained on the 1,000 labelled Amazon sentences in ../shared/data/sentiment (UCI "Sentiment Labelled
Sentences", CC BY 4.0, Kotzias et al. KDD 2015) and the 242 short multilingual reviews of
core/assets/sentiment_train.tsv (weighted 3 each, so other languages and domains count). The
features are multilingual-e5-small embeddings; C is chosen by 5-fold cross-validation, never a threshold,
counting a neutral answer (|score| under NEUTRAL_BAND) as a miss: every training row is clearly
positive or negative, so a head too unsure to say which has not read it.
Run: .venv/bin/python scripts/train_sentiment_head.py [--input LABELLED.tsv] [--out DIR]
With --out, the head is written to DIR/sentiment_head.json, for `python -m core sentiment --model DIR`.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "sentiment" / "amazon_cells_labelled.txt"
MULTILINGUAL = ROOT / "core" / "assets" / "sentiment_train.tsv"
MULTILINGUAL_WEIGHT = 3


def load_labelled(path: Path = DATA) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        text, _, label = line.rpartition("\t")
        if text and label.strip() in ("0", "1"):
            texts.append(text.strip())
            labels.append(int(label))
    return texts, np.array(labels)


def load_multilingual(path: Path = MULTILINGUAL) -> tuple[list[str], np.ndarray]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return [r[2] for r in rows], np.array([int(r[1] == "positive") for r in rows])


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--input", type=Path, default=DATA, help="text<TAB>label lines, label 1 positive, 0 negative")
    parser.add_argument("--out", type=Path, help="folder to write sentiment_head.json to (default: the shipped head)")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    from core.models.encoders import encoder
    from core.models.sentiment import HEAD_PATH, NEUTRAL_BAND

    texts, labels = load_labelled(args.input)
    weights = np.ones(len(texts))
    if not args.out:  # the shipped head also reads the multilingual examples
        extra, extra_labels = load_multilingual()
        texts, labels = texts + extra, np.concatenate([labels, extra_labels])
        weights = np.concatenate([weights, np.full(len(extra), MULTILINGUAL_WEIGHT)])
    target = args.out / "sentiment_head.json" if args.out else HEAD_PATH
    X = encoder().encode(texts)
    def decided(model, X, y) -> float:
        score = 2 * model.predict_proba(X)[:, 1] - 1
        return float(np.mean(np.where(y == 1, score >= NEUTRAL_BAND, score <= -NEUTRAL_BAND)))

    results = {
        C: cross_val_score(LogisticRegression(C=C, max_iter=5000), X, labels, cv=5, scoring=decided, params={"sample_weight": weights}).mean()
        for C in (0.3, 1, 3, 10, 30)
    }
    best = max(results, key=results.get)
    model = LogisticRegression(C=best, max_iter=5000).fit(X, labels, sample_weight=weights)
    coef = [round(float(w), 6) for w in model.coef_[0]]
    # A head's id names its weights, so the score cache never mixes two heads' answers.
    fingerprint = hashlib.sha256(json.dumps(coef).encode()).hexdigest()[:10]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(
            {
                "model_id": "embedded:e5-lr-v3" if not args.out else f"embedded:e5-lr-{fingerprint}",
                "features": "multilingual-e5-small query embedding (384), core.models.e5 on torch",
                "trained_on": f"{args.input.name}" + ("" if args.out else f" + {MULTILINGUAL.name}") + f" ({len(texts):,} rows)",
                "C": best,
                "cv_decided_accuracy": round(results[best], 4),
                "coef": coef,
                "intercept": round(float(model.intercept_[0]), 6),
            }
        )
    )
    print(json.dumps({"cv_decided_accuracy_by_C": {str(k): round(v, 4) for k, v in results.items()}, "chosen_C": best, "written": str(target)}))


if __name__ == "__main__":
    main()
