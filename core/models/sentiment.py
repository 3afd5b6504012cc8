"""Sentiment classifiers. Each has a `model_id` and `classify(texts) -> [Scored]`:

- `EmbeddedClassifier`: a logistic-regression head (core/assets/sentiment_head.json, made by
  scripts/train_sentiment_head.py) over the multilingual encoder's embedding;
- `LoraClassifier`: a fine-tune saved by the model lab (LoRA adapters on the encoder plus a head);

Any LLM backend as a classifier is core.llm.classifier's; core/classifiers.py picks one from a page's or the CLI's choice.
"""
from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from core.config import data_dir
from core.models.encoders import encoder, load_minilm, mean_pool, vader_features
from core.ratings import rating_scale
from core.shared import device

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


class LoraSentiment:
    """The encoder with LoRA adapters and a linear head over [mean-pooled embedding, VADER scores]:
    the model the lab fine-tunes (`core.lab.finetune`) and `LoraClassifier` loads."""

    def __init__(self, labels: Sequence[str], *, r: int = 8, alpha: int = 16, dropout: float = 0.1, adapter_dir: Path | None = None, seed: int = 0):
        import torch
        from peft import LoraConfig, PeftModel, get_peft_model

        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")  # peft asks transformers a deprecated question
        torch.manual_seed(seed)
        self.torch, self.labels, self.r = torch, list(labels), r
        self.device = device()
        self.tokenizer, base = load_minilm()
        if adapter_dir is None:
            self.encoder = get_peft_model(base, LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=["query", "value"]))
        else:
            self.encoder = PeftModel.from_pretrained(base, adapter_dir)
        self.head = torch.nn.Linear(base.config.hidden_size + 3, len(self.labels))
        self.encoder.to(self.device)
        self.head.to(self.device)

    def logits(self, texts: Sequence[str]):
        torch = self.torch
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt").to(self.device)
        pooled = mean_pool(self.encoder(**batch).last_hidden_state, batch["attention_mask"])
        lexicon = torch.tensor(vader_features(texts), dtype=pooled.dtype, device=self.device)
        return self.head(torch.cat([pooled, lexicon], dim=-1))

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        torch = self.torch
        self.encoder.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                out.append(torch.softmax(self.logits(texts[start : start + batch_size]), dim=-1).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)))

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.labels[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def save(self, out_dir: Path) -> None:
        """The adapters and the head, as LoraClassifier loads them (the lab adds its LAB_FILE beside)."""
        self.encoder.save_pretrained(out_dir / "adapter")
        self.torch.save(self.head.state_dict(), out_dir / "head.pt")


class LoraClassifier:
    """A saved fine-tune as a sentiment classifier: score = P(positive) - P(negative)."""

    def __init__(self, model_dir: str | Path):
        import torch

        info = json.loads((Path(model_dir) / LAB_FILE).read_text())
        self.model_id, labels = info["model_id"], info["labels"]
        self.model = LoraSentiment(labels, r=info["lora_r"], adapter_dir=Path(model_dir) / "adapter")
        self.model.head.load_state_dict(torch.load(Path(model_dir) / "head.pt", map_location=self.model.device))

    def classify(self, texts: Sequence[str]) -> list[Scored]:
        probabilities = self.model.predict_proba(list(texts))
        labels = self.model.labels
        results = []
        for p in probabilities:
            score = float(p[labels.index("positive")] if "positive" in labels else 0) - float(p[labels.index("negative")] if "negative" in labels else 0)
            label = labels[int(p.argmax())] if "neutral" in labels else label_for(score)
            results.append(Scored(label, round(score, 4), round(float(p.max()), 4)))
        return results


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
