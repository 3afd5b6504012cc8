"""Fitting the classifier to a file's own star ratings: refit how the score maps to positive and
negative, judged on held-out clearly rated rows by macro F1 (a skewed file cannot fool it), kept
only when it helps, and undone from the scores the classifier first gave."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import update
from sqlmodel import select

from core.db import Dataset, Review, session_scope
from core.errors import UserError
from core.i18n import Msg
from core.models.sentiment import label_for, rating_classes
from core.sentiment.checks import binary_scores
from core.sentiment.datasets import cached_scores, reviews_frame, text_hash

MIN_PER_CLASS = 10
MIN_GAIN = 0.005  # macro F1 points (0-1) a calibration must add to be kept


def _logit(score) -> np.ndarray:
    p = np.clip((np.asarray(score, dtype=float) + 1) / 2, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def calibrate(frame: pd.DataFrame, seed: int = 0) -> dict:
    """Refit the score's slope and offset on half of the clearly rated rows (each class weighted
    equally), measure macro F1 and balanced accuracy on the other half, before and after.

    The classifier's direction is kept (a negative slope is never kept); only how its score maps to
    positive and negative moves, which is what differs between domains. `kept` says whether the
    held-out macro F1 rose by at least MIN_GAIN."""
    from sklearn.linear_model import LogisticRegression

    labels = rating_classes(frame["rating"]).map({"positive": 1, "negative": 0})
    usable = frame[labels.notna() & frame["score"].notna()]
    y = labels[usable.index].astype(int).to_numpy()
    if min((y == 1).sum(), (y == 0).sum()) < MIN_PER_CLASS:
        raise UserError(
            Msg(
                "Fitting needs at least {minimum} clearly negative (1-2 stars) and {minimum} clearly positive (4-5 stars) rated reviews; "
                "this selection has {negative} and {positive}.",
                minimum=MIN_PER_CLASS,
                negative=int((y == 0).sum()),
                positive=int((y == 1).sum()),
            )
        )
    logit = _logit(usable["score"]).reshape(-1, 1)
    rng = np.random.default_rng(seed)
    fit, test = [], []
    for cls in (0, 1):  # stratified halves: both classes on both sides, however skewed the file
        members = rng.permutation(np.flatnonzero(y == cls))
        fit += list(members[: len(members) // 2])
        test += list(members[len(members) // 2 :])
    model = LogisticRegression(class_weight="balanced").fit(logit[fit], y[fit])
    slope, intercept = float(model.coef_[0][0]), float(model.intercept_[0])
    before = binary_scores(y[test], logit[test, 0] >= 0)
    after = binary_scores(y[test], slope * logit[test, 0] + intercept >= 0)
    return {
        "slope": slope,
        "intercept": intercept,
        "before": before,
        "after": after,
        "kept": slope > 0 and after["macro_f1"] >= before["macro_f1"] + MIN_GAIN,
        "fit_rows": len(fit),
        "test_rows": len(test),
    }


def fit_dataset(dataset_id: int) -> dict:
    """Calibrate a stored dataset on its own rated reviews and apply the fit when it helps: what the
    Sentiment page, `python -m core calibrate` and a calibrate job do."""
    result = calibrate(reviews_frame(dataset_id))
    if result["kept"]:
        apply_calibration(dataset_id, result)
    return result


def _write_scores(dataset_id: int, new_scores: dict[int, tuple[float, float]], calibration: dict | None) -> None:
    with session_scope() as session:
        updates = [{"id": rid, "score": s, "sentiment": label_for(s), "confidence": c} for rid, (s, c) in new_scores.items()]
        if updates:
            session.execute(update(Review), updates)
        dataset = session.get(Dataset, dataset_id)
        dataset.calibration = calibration
        session.add(dataset)
        session.commit()


def apply_calibration(dataset_id: int, calibration: dict) -> None:
    """Re-map the classifier's own scores of the dataset through a calibration, and record it. The
    mapping always starts from the classifier's scores, so fitting twice does not compound."""
    if not calibration.get("kept"):
        raise UserError(Msg("That fit did not improve the agreement with the stars on held-out reviews, so it was not applied."))
    original = original_scores(dataset_id)
    mapped = {}
    for rid, (score, _) in original.items():
        q = 1 / (1 + np.exp(-(calibration["slope"] * _logit(score) + calibration["intercept"])))
        mapped[rid] = (round(float(2 * q - 1), 4), round(float(max(q, 1 - q)), 4))
    _write_scores(dataset_id, mapped, dict(calibration))


def undo_calibration(dataset_id: int) -> int:
    """Put back the classifier's own scores; the number of reviews restored."""
    original = original_scores(dataset_id)
    _write_scores(dataset_id, original, None)
    return len(original)


def original_scores(dataset_id: int) -> dict[int, tuple[float, float]]:
    """Each scored review's (score, confidence) as its classifier gave them, before any calibration,
    from the score cache (the stored score where the cache lacks it)."""
    with session_scope() as session:
        rows = session.exec(
            select(Review.id, Review.text, Review.model, Review.score, Review.confidence).where(Review.dataset_id == dataset_id, Review.score.is_not(None))
        ).all()
    out = {}
    for model in {row[2] for row in rows}:
        known = cached_scores(model, [text_hash(row[1]) for row in rows if row[2] == model])
        for rid, text, m, score, confidence in rows:
            if m == model:
                cached = known.get(text_hash(text))
                out[rid] = (cached.score, cached.confidence) if cached else (score, confidence)
    return out
