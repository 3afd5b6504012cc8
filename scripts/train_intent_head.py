"""Re-create core/assets/intent_head.json: the email intent classifier's logistic-regression head.

Trained on the labelled example emails in core/assets/email_intents.tsv (written for Mercury; see
bench/email_replies.py for the figures on mail it never saw). The head is shipped trained, so no
page trains a model on its first request. Run: .venv/bin/python scripts/train_intent_head.py
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    from core.models.encoders import encoder
    from core.models.intents import EXAMPLES_PATH, HEAD_PATH, read_examples

    texts, labels = read_examples()
    model = LogisticRegression(C=4.0, max_iter=2000).fit(encoder().encode(texts), labels)
    head = {
        "classes": [str(c) for c in model.classes_],
        "encoder": "multilingual-e5-small query embedding (384), core.models.e5 on torch",
        "trained_on": f"{EXAMPLES_PATH.name} ({len(texts)} emails), sha256 {hashlib.sha256(EXAMPLES_PATH.read_bytes()).hexdigest()[:16]}",
        "C": 4.0,
        "coef": [[round(float(w), 6) for w in row] for row in model.coef_],
        "intercept": [round(float(b), 6) for b in model.intercept_],
    }
    HEAD_PATH.write_text(json.dumps(head))
    print(json.dumps({"classes": head["classes"], "written": str(HEAD_PATH)}))


if __name__ == "__main__":
    main()
