"""Re-create core/assets/sentiment_head.json: the embedded sentiment classifier's logistic-regression head.

Trained on the 1,000 labelled Amazon sentences in ../shared/data/sentiment (UCI "Sentiment Labelled
Sentences", CC BY 4.0, Kotzias et al. KDD 2015). The features are domain-general (MiniLM sentence
embeddings and VADER's lexicon scores); C is chosen by 5-fold cross-validation, never a threshold.
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


def load_labelled(path: Path = DATA) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        text, _, label = line.rpartition("\t")
        if text and label.strip() in ("0", "1"):
            texts.append(text.strip())
            labels.append(int(label))
    return texts, np.array(labels)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--input", type=Path, default=DATA, help="text<TAB>label lines, label 1 positive, 0 negative")
    parser.add_argument("--out", type=Path, help="folder to write sentiment_head.json to (default: the shipped head)")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    from core.models.encoders import features
    from core.models.intents import HEAD_PATH

    texts, labels = load_labelled(args.input)
    target = args.out / "sentiment_head.json" if args.out else HEAD_PATH
    X = features(texts)
    results = {C: cross_val_score(LogisticRegression(C=C, max_iter=5000), X, labels, cv=5).mean() for C in (0.3, 1, 3, 10)}
    best = max(results, key=results.get)
    model = LogisticRegression(C=best, max_iter=5000).fit(X, labels)
    coef = [round(float(w), 6) for w in model.coef_[0]]
    # A head's id names its weights, so the score cache never mixes two heads' answers.
    fingerprint = hashlib.sha256(json.dumps(coef).encode()).hexdigest()[:10]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(
            {
                "model_id": "embedded:minilm-vader-lr-v1" if not args.out else f"embedded:minilm-vader-lr-{fingerprint}",
                "features": "all-MiniLM-L6-v2 mean-pooled normalised embedding (384) + VADER compound, pos, neg",
                "trained_on": f"{args.input.name} ({len(texts):,} rows)",
                "C": best,
                "cv_accuracy": round(results[best], 4),
                "coef": coef,
                "intercept": round(float(model.intercept_[0]), 6),
            }
        )
    )
    print(json.dumps({"cv_accuracy_by_C": {str(k): round(v, 4) for k, v in results.items()}, "chosen_C": best, "written": str(target)}))


if __name__ == "__main__":
    main()
