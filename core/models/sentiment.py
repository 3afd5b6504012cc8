"""Sentiment classifiers. Each has a `model_id` and `classify(texts) -> [Scored]`:

- `EmbeddedClassifier`: a logistic-regression head (core/assets/sentiment_head.json, made by
  scripts/train_sentiment_head.py) over the multilingual encoder's embedding;
- `LoraClassifier` (core/models/lora.py, torch): a fine-tune saved by the model lab (LoRA adapters on the encoder plus a head);

Any LLM backend as a classifier is core.llm.classifier's; core/classifiers.py picks one from a page's or the CLI's choice.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from core.config import data_dir
from core.models.encoders import encoder
from core.ratings import rating_scale

HEAD_PATH = Path(__file__).resolve().parent.parent / "assets" / "sentiment_head.json"
LAB_FILE = "lab_model.json"  # what marks a folder as a saved LoRA fine-tune
LABELS = ("negative", "neutral", "positive")
# |score| below this reads as neutral: the classifier is unsure which way the text leans.
NEUTRAL_BAND = 0.2


@dataclass
class Scored:
    sentiment: str
    score: float
    confidence: float


def label_for(score: float) -> str:
    if score >= NEUTRAL_BAND:
        return "positive"
    if score <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def from_probability(p: float) -> Scored:
    score = 2 * p - 1
    return Scored(label_for(score), round(score, 4), round(max(p, 1 - p), 4))


def rating_classes(ratings: pd.Series) -> pd.Series:
    """"positive" for clearly good star ratings (4-5 of 5, 8-10 of 10, 80-100 of 100), "negative" for
    clearly bad ones (1-2 of 5, 1-4 of 10, up to 40 of 100), None for the middle and the unrated. The
    scale is read from the values."""
    numeric = pd.to_numeric(ratings, errors="coerce")
    top = rating_scale(numeric)
    return pd.Series(np.where(numeric >= 0.8 * top, "positive", np.where(numeric <= 0.4 * top, "negative", None)), index=ratings.index, dtype=object)


class EmbeddedClassifier:
    """The multilingual encoder's embedding into a logistic-regression head, on the CPU."""

    def __init__(self, head_path: Path = HEAD_PATH):
        head = json.loads(Path(head_path).read_text())
        self.coef = np.array(head["coef"], dtype=np.float32)
        self.intercept = float(head["intercept"])
        self.model_id = head["model_id"]

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        logits = encoder().encode(texts) @ self.coef + self.intercept
        return 1 / (1 + np.exp(-logits))

    def classify(self, texts: Sequence[str]) -> list[Scored]:
        return [from_probability(float(p)) for p in self.probabilities(texts)]


# --- what a page or the CLI may choose -------------------------------------------------------------

def models_dir() -> Path:
    """Where the model lab saves fine-tunes."""
    return data_dir() / "models"


def model_folder(name: str) -> Path:
    """The folder a fine-tune named `name` is saved in (the name made safe for a path)."""
    return models_dir() / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "model")


def saved_models() -> dict[str, Path]:
    """Fine-tuned sentiment models saved under the data folder, by model id (newest first)."""
    found = sorted(models_dir().glob(f"*/{LAB_FILE}"), key=lambda p: p.stat().st_mtime, reverse=True)
    return {json.loads(p.read_text())["model_id"]: p.parent for p in found}
