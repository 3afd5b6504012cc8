"""The sentiment model the Model lab fine-tunes: the multilingual MiniLM encoder with LoRA adapters
and a small linear head over [mean-pooled embedding, VADER scores], as one torch module that
transformers' Trainer optimises (core/lab/finetune.py) and `LoraClassifier` loads to score."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from core.models.encoders import load_minilm, mean_pool, vader_features
from core.models.sentiment import LAB_FILE, Scored, label_for
from core.shared import device

LEXICON_FEATURES = 3  # VADER's negative, neutral and positive shares


class SentimentHead(nn.Module):
    """A linear layer from [pooled embedding, VADER scores] to one logit per label, saved on its own."""

    def __init__(self, hidden: int, labels: int):
        super().__init__()
        self.linear = nn.Linear(hidden + LEXICON_FEATURES, labels)

    def forward(self, pooled: torch.Tensor, lexicon: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.cat([pooled, lexicon.to(pooled.dtype)], dim=-1))

    def save(self, path: Path) -> None:
        torch.save(self.state_dict(), path)

    def load(self, path: Path) -> SentimentHead:
        self.load_state_dict(torch.load(path, map_location="cpu"))
        return self


class SentimentNetwork(nn.Module):
    """Encoder and head as one module. Given `labels`, it returns the cross-entropy loss beside the
    logits, which is what Trainer asks of a model."""

    def __init__(self, encoder: nn.Module, head: SentimentHead):
        super().__init__()
        self.encoder, self.head = encoder, head

    def forward(self, input_ids, attention_mask, lexicon, labels=None, token_type_ids=None) -> dict:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits = self.head(mean_pool(hidden, attention_mask), lexicon)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = nn.functional.cross_entropy(logits.float(), labels)
        return out


class LoraSentiment:
    """The network with its tokenizer: features from texts, predictions, save and load."""

    def __init__(self, labels: Sequence[str], *, r: int = 8, alpha: int = 16, dropout: float = 0.1, adapter_dir: Path | None = None, seed: int = 0):
        from peft import LoraConfig, PeftModel, get_peft_model

        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")  # peft asks transformers a deprecated question
        torch.manual_seed(seed)
        self.labels, self.r = list(labels), r
        self.device = device()
        self.tokenizer, base = load_minilm()
        if adapter_dir is None:
            encoder = get_peft_model(base, LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=["query", "value"]))
        else:
            encoder = PeftModel.from_pretrained(base, adapter_dir)
        self.network = SentimentNetwork(encoder, SentimentHead(base.config.hidden_size, len(self.labels))).to(self.device)

    @property
    def encoder(self) -> nn.Module:
        return self.network.encoder

    @property
    def head(self) -> SentimentHead:
        return self.network.head

    def features(self, texts: Sequence[str]) -> dict:
        """What the network reads for some texts: token ids, their mask and the VADER scores."""
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt")
        return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"], "lexicon": torch.tensor(vader_features(texts), dtype=torch.float32)}

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.network.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                features = {k: v.to(self.device) for k, v in self.features(texts[start : start + batch_size]).items()}
                out.append(torch.softmax(self.network(**features)["logits"].float(), dim=-1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)))

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.labels[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def save(self, out_dir: Path) -> None:
        """The adapters and the head, as LoraClassifier loads them (the lab adds its LAB_FILE beside)."""
        self.encoder.save_pretrained(out_dir / "adapter")
        self.head.save(out_dir / "head.pt")


class LoraClassifier:
    """A saved fine-tune as a sentiment classifier: score = P(positive) - P(negative)."""

    def __init__(self, model_dir: str | Path):
        info = json.loads((Path(model_dir) / LAB_FILE).read_text())
        self.model_id, labels = info["model_id"], info["labels"]
        self.model = LoraSentiment(labels, r=info["lora_r"], adapter_dir=Path(model_dir) / "adapter")
        self.model.head.load(Path(model_dir) / "head.pt").to(self.model.device)

    def classify(self, texts: Sequence[str]) -> list[Scored]:
        probabilities = self.model.predict_proba(list(texts))
        labels = self.model.labels
        results = []
        for p in probabilities:
            score = float(p[labels.index("positive")] if "positive" in labels else 0) - float(p[labels.index("negative")] if "negative" in labels else 0)
            label = labels[int(p.argmax())] if "neutral" in labels else label_for(score)
            results.append(Scored(label, round(score, 4), round(float(p.max()), 4)))
        return results
