"""Calibration on a file's own rated rows: refit how the score maps to positive and negative."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sqlalchemy import update
from sqlmodel import select

from core.db import Dataset, Review, session_scope
from core.errors import UserError
from core.models.sentiment import label_for, rating_classes


def rating_labels(frame: pd.DataFrame) -> pd.Series:
    """1 for clearly positive ratings, 0 for clearly negative ones, NaN for the middle and unrated."""
    return rating_classes(frame["rating"]).map({"positive": 1.0, "negative": 0.0})


def calibrate(frame: pd.DataFrame, seed: int = 0) -> dict:
    """Refit the score's slope and offset on half of the rated rows; measure on the other half.

    The classifier's direction is kept; only how its score maps to positive and negative moves,
    which is what differs between domains (what a '3 out of 5' review sounds like, say)."""
    from sklearn.linear_model import LogisticRegression

    labels = rating_labels(frame)
    usable = frame[labels.notna() & frame["score"].notna()]
    y = labels[usable.index].astype(int).to_numpy()
    if len(usable) < 20 or len(set(y)) < 2:
        raise UserError("Calibration needs at least 20 rated reviews, some clearly positive (4-5 stars) and some clearly negative (1-2).")
    p = np.clip((usable["score"].to_numpy() + 1) / 2, 1e-4, 1 - 1e-4)
    logit = np.log(p / (1 - p)).reshape(-1, 1)
    order = np.random.default_rng(seed).permutation(len(usable))
    fit, test = order[: len(order) // 2], order[len(order) // 2 :]
    model = LogisticRegression().fit(logit[fit], y[fit])
    before = float(((logit[test, 0] >= 0).astype(int) == y[test]).mean())
    after = float((model.predict(logit[test]) == y[test]).mean())
    return {"slope": float(model.coef_[0][0]), "intercept": float(model.intercept_[0]), "accuracy_before": before, "accuracy_after": after, "fit_rows": int(len(fit)), "test_rows": int(len(test))}


def apply_calibration(dataset_id: int, calibration: dict) -> None:
    """Re-map the dataset's current scores through a calibration fitted on them, and record it."""
    with session_scope() as session:
        dataset = session.get(Dataset, dataset_id)
        rows = session.exec(select(Review.id, Review.score).where(Review.dataset_id == dataset_id, Review.score.is_not(None))).all()
        updates = []
        for rid, score in rows:
            p = min(max((score + 1) / 2, 1e-4), 1 - 1e-4)
            logit = np.log(p / (1 - p))
            q = 1 / (1 + np.exp(-(calibration["slope"] * logit + calibration["intercept"])))
            new = round(float(2 * q - 1), 4)
            updates.append({"id": rid, "score": new, "sentiment": label_for(new), "confidence": round(float(max(q, 1 - q)), 4)})
        if updates:
            session.execute(update(Review), updates)
        dataset.calibration = json.dumps(calibration)
        session.add(dataset)
        session.commit()
