"""Fine-tuning with LoRA: the sentiment model (LoRA adapters on the encoder plus a head, see
core/models/sentiment.py) from labelled rows, and the language model from approved replies and
saved content. Splits are stratified train / validation / test; training stops early on the
validation measure and keeps the best epoch.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from sqlmodel import select

from core.classifiers import get_classifier
from core.db import ContentPiece, EmailMessage, session_scope
from core.errors import IngestError, LLMError
from core.i18n import Msg
from core.lab.evaluate import metrics, predictions
from core.llm import get_backend, resolve_spec
from core.models.sentiment import LAB_FILE, LoraSentiment


def split(labels: Sequence[str], *, seed: int = 0, validation: float = 0.15, test: float = 0.15) -> tuple[list[int], list[int], list[int]]:
    """Stratified train / validation / test indexes."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    rest, test_index = train_test_split(index, test_size=test, stratify=labels, random_state=seed)
    train_index, val_index = train_test_split(rest, test_size=validation / (1 - test), stratify=[labels[i] for i in rest], random_state=seed)
    return sorted(train_index.tolist()), sorted(val_index.tolist()), sorted(test_index.tolist())


@dataclass
class FineTuneResult:
    out_dir: str
    model_id: str
    split: dict
    epochs_run: int
    best_epoch: int
    history: list[dict] = field(default_factory=list)  # one row per logged step and per epoch end
    validation: dict = field(default_factory=dict)
    test: dict = field(default_factory=dict)
    baseline_test: dict = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Training:
    state: object  # the snapshot of the best epoch
    best_epoch: int
    validation: object  # what validate() gave for the best epoch
    epochs_run: int
    history: list[dict]


def train_with_early_stopping(
    module,
    optimizer,
    *,
    batches: Callable[[], Iterable],
    step_loss: Callable[[object], object],
    validate: Callable[[], tuple[float, dict, object]],
    snapshot: Callable[[], object],
    epochs: int,
    patience: int,
    max_steps: int | None,
    on_step: Callable[[dict], None] | None,
) -> Training:
    """The loop both LoRA fine-tunes share: optimise over each epoch's batches, validate after each
    epoch (validate returns a score where higher is better, the figures to log, and the result to
    keep), snapshot the best epoch, stop after `patience` epochs without improvement or at max_steps."""
    history: list[dict] = []

    def log(row: dict) -> None:
        history.append(row)
        if on_step:
            on_step(row)

    best, best_score, stale, step = None, -math.inf, 0, 0
    for epoch in range(1, epochs + 1):
        module.train()
        for batch in batches():
            loss = step_loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            log({"step": step, "epoch": epoch, "loss": round(float(loss.detach()), 4)})
            if max_steps and step >= max_steps:
                break
        score, figures, validation = validate()
        log({"step": step, "epoch": epoch, **figures})
        if score > best_score:
            best_score, stale, best = score, 0, Training(snapshot(), epoch, validation, epoch, history)
        else:
            stale += 1
            if stale > patience:
                break
        if max_steps and step >= max_steps:
            break
    best.epochs_run = epoch
    return best


def finetune(
    texts: Sequence[str],
    labels: Sequence[str],
    out_dir: str | Path,
    *,
    epochs: int = 4,
    lora_r: int = 8,
    learning_rate: float = 1e-3,
    batch_size: int = 16,
    patience: int = 1,
    max_steps: int | None = None,
    seed: int = 0,
    on_step: Callable[[dict], None] | None = None,
) -> FineTuneResult:
    """Train LoRA adapters and the head, keep the epoch with the best validation macro F1, save it,
    and report validation and test figures against the embedded head on the same test split."""
    if len(set(labels)) < 2:
        raise IngestError(Msg("Fine-tuning needs at least two different labels."))
    if min(pd.Series(labels).value_counts()) < 4:
        raise IngestError(Msg("Every label needs at least four rows, so train, validation and test each see it."))
    torch = __import__("torch")
    started = time.perf_counter()
    train_index, val_index, test_index = split(labels, seed=seed)
    classes = sorted(set(labels))
    model = LoraSentiment(classes, r=lora_r, seed=seed)
    target = torch.tensor([classes.index(label) for label in labels])
    parameters = [p for p in model.encoder.parameters() if p.requires_grad] + list(model.head.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=0.01)
    rng = np.random.default_rng(seed)
    texts = list(texts)
    val_texts, val_truth = [texts[i] for i in val_index], [labels[i] for i in val_index]

    def batches():
        order = rng.permutation(train_index)
        return (order[start : start + batch_size] for start in range(0, len(order), batch_size))

    def validate():
        validation = metrics(val_truth, model.predict(val_texts))
        return validation["macro_f1"], {"val_macro_f1": validation["macro_f1"], "val_accuracy": validation["accuracy"]}, validation

    training = train_with_early_stopping(
        model.encoder,
        optimizer,
        epochs=epochs,
        patience=patience,
        max_steps=max_steps,
        on_step=on_step,
        validate=validate,
        batches=batches,
        step_loss=lambda batch: torch.nn.functional.cross_entropy(model.logits([texts[i] for i in batch]), target[batch].to(model.device)),
        snapshot=lambda: (
            {k: v.detach().clone() for k, v in model.encoder.state_dict().items() if "lora_" in k},
            {k: v.detach().clone() for k, v in model.head.state_dict().items()},
        ),
    )
    best_state = training.state
    model.encoder.load_state_dict(best_state[0], strict=False)
    model.head.load_state_dict(best_state[1])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out)
    weights = b"".join(t.detach().cpu().numpy().tobytes() for t in best_state[1].values())
    model_id = f"lora:minilm-r{lora_r}-{hashlib.sha256(weights).hexdigest()[:10]}"
    test_texts, test_truth = [texts[i] for i in test_index], [labels[i] for i in test_index]
    result = FineTuneResult(
        out_dir=str(out),
        model_id=model_id,
        split={"train": len(train_index), "validation": len(val_index), "test": len(test_index)},
        epochs_run=training.epochs_run,
        best_epoch=training.best_epoch,
        history=training.history,
        validation=training.validation,
        test=metrics(test_truth, model.predict(test_texts)),
        baseline_test=metrics(test_truth, predictions(get_classifier("embedded"), test_texts, test_truth)),
    )
    result.seconds = round(time.perf_counter() - started, 1)
    (out / LAB_FILE).write_text(
        json.dumps(
            {
                "model_id": model_id,
                "labels": classes,
                "lora_r": lora_r,
                "learning_rate": learning_rate,
                "best_epoch": training.best_epoch,
                "split": result.split,
                "validation": result.validation,
                "test": result.test,
                "baseline_test": result.baseline_test,
                "seconds": result.seconds,
            },
            indent=2,
        )
    )
    return result


# --- LoRA on the causal LM: approved replies and saved content as instruction pairs -----------------

CAUSAL_FILE = "lab_causal.json"


def instruction_pairs() -> list[dict]:
    """Approved email replies (the email, then the reply a person approved) and saved content
    (the brief, then the text) as instruction and response pairs."""
    with session_scope() as session:
        emails = session.exec(select(EmailMessage).where(EmailMessage.status == "approved")).all()
        pieces = session.exec(select(ContentPiece)).all()
    pairs = [
        {"instruction": f"Reply to this customer email.\nSubject: {e.subject}\n\n{e.body}", "response": e.approved_text}
        for e in emails
        if e.approved_text.strip()
    ]
    pairs += [
        {"instruction": f"Write a {p.kind}{' post for ' + p.platform if p.platform else ''} about: {p.topic}", "response": p.text}
        for p in pieces
        if p.text.strip()
    ]
    return pairs


def _pair_batch(tokenizer, pairs: Sequence[dict], max_length: int = 512):
    """Token ids with the loss on the response only (prompt positions labelled -100), right-padded."""
    import torch

    rows = []
    for pair in pairs:
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": pair["instruction"]}], add_generation_prompt=True, tokenize=False)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        response_ids = tokenizer(pair["response"] + (tokenizer.eos_token or ""), add_special_tokens=False)["input_ids"]
        ids = (prompt_ids + response_ids)[:max_length]
        rows.append((ids, ([-100] * len(prompt_ids) + response_ids)[:max_length]))
    width = max(len(ids) for ids, _ in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in rows])
    labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in rows])
    mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in rows])
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


def finetune_causal(
    pairs: Sequence[dict],
    out_dir: str | Path,
    *,
    spec=None,
    epochs: int = 3,
    lora_r: int = 8,
    learning_rate: float = 2e-4,
    batch_size: int = 4,
    patience: int = 1,
    max_steps: int | None = None,
    seed: int = 0,
    on_step: Callable[[dict], None] | None = None,
) -> dict:
    """LoRA on the embedded or local causal LM (the GPU in bf16 when there is one), split
    80/10/10, early stopping on validation loss. The adapter folder loads as a local model:
    `--backend local --model OUT/adapter`."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    if len(pairs) < 6:
        raise IngestError(Msg("Fine-tuning the language model needs at least six pairs: approve more replies or save more content."))
    backend = get_backend(spec or resolve_spec())
    if not hasattr(backend, "model_path"):
        raise LLMError(Msg("LoRA fine-tuning needs a model Mercury runs itself (Embedded or Local), not a hosted API."))
    started = time.perf_counter()
    torch.manual_seed(seed)
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_val = n_test = max(1, len(pairs) // 10)
    test_pairs, val_pairs, train_pairs = (
        [pairs[i] for i in order[:n_test]],
        [pairs[i] for i in order[n_test : n_test + n_val]],
        [pairs[i] for i in order[n_test + n_val :]],
    )
    tokenizer = backend.tokenizer
    base = AutoModelForCausalLM.from_pretrained(backend.model_path, dtype=backend.model.dtype).to(backend.device)  # a copy: the shared model keeps serving
    model = get_peft_model(base, LoraConfig(task_type="CAUSAL_LM", r=lora_r, lora_alpha=2 * lora_r, lora_dropout=0.05, target_modules=["q_proj", "v_proj"]))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=learning_rate)

    def mean_loss(subset: Sequence[dict]) -> float:
        model.eval()
        with torch.inference_mode():
            losses = [
                float(model(**{k: v.to(backend.device) for k, v in _pair_batch(tokenizer, subset[i : i + batch_size]).items()}).loss)
                for i in range(0, len(subset), batch_size)
            ]
        return float(np.mean(losses))

    rng = np.random.default_rng(seed)

    def batches():
        shuffled = [train_pairs[i] for i in rng.permutation(len(train_pairs))]
        return (shuffled[start : start + batch_size] for start in range(0, len(shuffled), batch_size))

    def validate():
        loss = mean_loss(val_pairs)
        return -loss, {"val_loss": round(loss, 4)}, loss

    training = train_with_early_stopping(
        model,
        optimizer,
        epochs=epochs,
        patience=patience,
        max_steps=max_steps,
        on_step=on_step,
        validate=validate,
        batches=batches,
        step_loss=lambda batch: model(**{k: v.to(backend.device) for k, v in _pair_batch(tokenizer, batch).items()}).loss,
        snapshot=lambda: {k: v.detach().clone() for k, v in model.state_dict().items() if "lora_" in k},
    )
    model.load_state_dict(training.state, strict=False)
    adapter = Path(out_dir) / "adapter"
    model.save_pretrained(adapter)
    tokenizer.save_pretrained(adapter)
    test_loss = mean_loss(test_pairs)
    summary = {
        "base_model": backend.model_path,
        "adapter": str(adapter),
        "lora_r": lora_r,
        "split": {"train": len(train_pairs), "validation": len(val_pairs), "test": len(test_pairs)},
        "best_epoch": training.best_epoch,
        "validation_loss": round(training.validation, 4),
        "test_loss": round(test_loss, 4),
        "test_perplexity": round(math.exp(test_loss), 2),
        "seconds": round(time.perf_counter() - started, 1),
        "history": training.history,
    }
    (Path(out_dir) / CAUSAL_FILE).write_text(json.dumps({k: v for k, v in summary.items() if k != "history"}, indent=2))
    return summary
