"""A result that checks itself: how well the text's sentiment agrees with the stars, and the warnings
to read before the dashboard (a wrong text column, a language Mercury reads poorly, a classifier
that does not fit the domain)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.i18n import Msg
from core.models.sentiment import rating_classes

# Below this agreement with the stars (balanced over clearly negative and clearly positive rows, so
# that a file of 95% five-star reviews cannot hide a classifier that reads everything as positive),
# the result is said to be doubtful, loudly.
AGREEMENT_FLOOR = 0.70
MIN_CLEAR_ROWS = 20


def binary_scores(truth: np.ndarray, said: np.ndarray) -> dict:
    """Balanced accuracy and macro F1 of a positive/negative reading, plus plain accuracy
    (scikit-learn's, as the Model lab computes them)."""
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    truth, said = np.asarray(truth, dtype=bool), np.asarray(said, dtype=bool)
    if not len(truth):
        return {"balanced_accuracy": None, "macro_f1": 0.0, "accuracy": None}
    return {
        # balanced accuracy: the mean recall over the classes present in the truth
        "balanced_accuracy": round(float(recall_score(truth, said, labels=sorted(set(truth)), average="macro", zero_division=0)), 4),
        "macro_f1": round(float(f1_score(truth, said, labels=[True, False], average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(truth, said)), 4),
    }


def rating_agreement(frame: pd.DataFrame) -> dict | None:
    """How often the text's sentiment agrees with the stars on clearly rated rows (1-2 against 4-5
    of 5, or 1-4 against 8-10 of 10), plain and balanced; None when nothing is rated."""
    rated = frame[frame["rating"].notna() & frame["score"].notna()]
    if rated.empty:
        return None
    classes = rating_classes(rated["rating"])
    clear = rated[classes.notna()]
    truth = (classes[clear.index] == "positive").to_numpy()
    scores = binary_scores(truth, (clear["score"] >= 0).to_numpy()) if len(clear) else {"balanced_accuracy": None, "accuracy": None}
    by_star = rated["score"].groupby(rated["rating"])  # columns, not the frame: a copy of 100,000 texts costs more than the figures
    by_rating = pd.DataFrame(
        {"volume": by_star.size(), "mean_score": by_star.mean(), "negative_share": (100 * (rated["sentiment"] == "negative")).groupby(rated["rating"]).mean()}
    ).reset_index()
    return {
        "agreement": scores["accuracy"],
        "balanced_agreement": scores["balanced_accuracy"],
        "clear_rows": int(len(clear)),
        "negative_rows": int((~truth).sum()),
        "positive_rows": int(truth.sum()),
        "rated": int(len(rated)),
        "by_rating": by_rating,
    }


def agreement_json(check: dict | None) -> dict | None:
    return None if check is None else {k: v for k, v in check.items() if k != "by_rating"}


def doubtful(check: dict | None) -> bool:
    return bool(check and check["clear_rows"] >= MIN_CLEAR_ROWS and check["balanced_agreement"] is not None and check["balanced_agreement"] < AGREEMENT_FLOOR)


def agreement_warning(check: dict | None, text_column: str = "") -> Msg | None:
    """One loud sentence when sentiment and stars disagree, saying what to check."""
    if not doubtful(check):
        return None
    column = f"'{text_column}'" if text_column else Msg("the text column")
    return Msg(
        "Sentiment agrees with the stars on only {share}% of {rows} clearly rated reviews (balanced over {negative} negative and {positive} positive): "
        "check that {column} holds the review text, that the reviews are in a language Mercury reads, and the classifier (or fit it to these ratings) "
        "before reading these results.",
        share=round(100 * check["balanced_agreement"]),
        rows=check["clear_rows"],
        negative=check["negative_rows"],
        positive=check["positive_rows"],
        column=column,
    )
