"""Fine-tuning with LoRA on transformers' Trainer: the sentiment model (LoRA adapters on the encoder
plus a head, core/models/lora.py) from labelled rows, split stratified by label, and the language
model from approved replies and saved content, split at random (seeded). Both train with a linear
schedule after a warm-up, gradient clipping and bf16 on a GPU, evaluate after every epoch, stop
early when the validation measure stops improving, and keep the best epoch.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sqlmodel import select

from core.classifiers import get_classifier
from core.db import ContentPiece, EmailMessage, session_scope
from core.errors import IngestError, LLMError
from core.i18n import Msg
from core.lab.evaluate import metrics, predictions
from core.llm import get_backend, resolve_spec
from core.models.sentiment import LAB_FILE


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


def train(
    model,
    train_rows,
    eval_rows,
    *,
    collate,
    compute_metrics=None,
    metric: str,
    greater_is_better: bool,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    patience: int,
    max_steps: int | None,
    seed: int,
    on_step: Callable[[dict], None] | None,
) -> tuple[object, list[dict]]:
    """The one Trainer both fine-tunes use; its checkpoints live in a scratch folder. Returns the
    trainer (its model is the best epoch's) and the history: a row per step and per evaluation."""
    import tempfile

    import torch
    from transformers import EarlyStoppingCallback, Trainer, TrainerCallback, TrainingArguments

    history: list[dict] = []

    class Log(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            epoch = math.ceil(state.epoch or 0)
            if "loss" in logs:
                row = {
                    "step": state.global_step,
                    "steps": state.max_steps,
                    "epoch": epoch,
                    "loss": round(float(logs["loss"]), 4),
                    "learning_rate": logs.get("learning_rate"),
                }
            elif f"eval_{metric}" in logs:
                figures = {"val_" + k[5:]: round(float(v), 4) for k, v in logs.items() if k.startswith("eval_") and k[5:] in METRICS}
                row = {"step": state.global_step, "epoch": epoch, **figures}
            else:
                return
            history.append(row)
            if on_step:
                on_step(row)

    gpu = torch.cuda.is_available()
    with tempfile.TemporaryDirectory(prefix="mercury-train-") as scratch:
        arguments = TrainingArguments(
            output_dir=scratch,
            num_train_epochs=epochs,
            max_steps=max_steps or -1,
            per_device_train_batch_size=batch_size,
            per_device_eval_batch_size=max(batch_size, 16),
            learning_rate=learning_rate,
            weight_decay=0.01,
            lr_scheduler_type="linear",
            warmup_steps=0.1,
            max_grad_norm=1.0,
            bf16=gpu and torch.cuda.is_bf16_supported(),
            use_cpu=not gpu,
            eval_strategy="epoch",
            save_strategy="epoch",
            save_only_model=True,
            load_best_model_at_end=True,
            metric_for_best_model=metric,
            greater_is_better=greater_is_better,
            logging_strategy="steps",
            logging_steps=1,
            report_to="none",
            disable_tqdm=True,
            remove_unused_columns=False,
            label_names=["labels"],
            seed=seed,
        )
        trainer = Trainer(
            model=model,
            args=arguments,
            train_dataset=train_rows,
            eval_dataset=eval_rows,
            data_collator=collate,
            compute_metrics=compute_metrics,
            callbacks=[EarlyStoppingCallback(early_stopping_patience=patience), Log()],
        )
        trainer.train()
    return trainer, history


METRICS = ("macro_f1", "accuracy", "loss")


def _validation_score(value: float) -> float:
    """A score early stopping can compare: a NaN (a validation split the model could not score) counts as the worst."""
    return value if value == value else -1.0


def finetune(
    texts: Sequence[str],
    labels: Sequence[str],
    out_dir: str | Path,
    *,
    epochs: int = 4,
    lora_r: int = 8,
    learning_rate: float = 1e-3,
    batch_size: int = 16,
    patience: int = 2,  # evaluations without improvement before training stops (EarlyStoppingCallback)
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
    import torch

    from core.models.lora import LoraSentiment

    started = time.perf_counter()
    train_index, val_index, test_index = split(labels, seed=seed)
    classes = sorted(set(labels))
    model = LoraSentiment(classes, r=lora_r, seed=seed)
    texts = list(texts)
    rows = [{"text": text, "labels": classes.index(label)} for text, label in zip(texts, labels)]
    val_texts, val_truth = [texts[i] for i in val_index], [labels[i] for i in val_index]

    def collate(batch: list[dict]) -> dict:
        return {**model.features([row["text"] for row in batch]), "labels": torch.tensor([row["labels"] for row in batch])}

    def compute_metrics(prediction) -> dict:
        found = metrics([classes[i] for i in prediction.label_ids], [classes[i] for i in np.asarray(prediction.predictions).argmax(axis=-1)])
        return {"macro_f1": _validation_score(found["macro_f1"]), "accuracy": found["accuracy"]}

    trainer, history = train(
        model.network,
        [rows[i] for i in train_index],
        [rows[i] for i in val_index],
        collate=collate,
        compute_metrics=compute_metrics,
        metric="macro_f1",
        greater_is_better=True,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        patience=patience,
        max_steps=max_steps,
        seed=seed,
        on_step=on_step,
    )
    model.network = trainer.model.to(model.device)
    evaluations = [row for row in history if "val_macro_f1" in row]
    best = max(evaluations, key=lambda row: row["val_macro_f1"]) if evaluations else {"epoch": 0}
    validation = metrics(val_truth, model.predict(val_texts))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out)
    weights = b"".join(t.detach().float().cpu().numpy().tobytes() for t in model.head.state_dict().values())
    model_id = f"lora:minilm-r{lora_r}-{hashlib.sha256(weights).hexdigest()[:10]}"
    test_texts, test_truth = [texts[i] for i in test_index], [labels[i] for i in test_index]
    result = FineTuneResult(
        out_dir=str(out),
        model_id=model_id,
        split={"train": len(train_index), "validation": len(val_index), "test": len(test_index)},
        epochs_run=max((row["epoch"] for row in history), default=0),
        best_epoch=best["epoch"],
        history=history,
        validation=validation,
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
                "best_epoch": result.best_epoch,
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
    patience: int = 2,  # evaluations without improvement before training stops (EarlyStoppingCallback)
    max_steps: int | None = None,
    seed: int = 0,
    on_step: Callable[[dict], None] | None = None,
) -> dict:
    """LoRA on the embedded or local causal LM (the GPU in bf16 when there is one), split
    80/10/10 at random, early stopping on validation loss. The adapter folder loads as a local model:
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

    def mean_loss(subset: Sequence[dict]) -> float:
        model.eval()
        with torch.inference_mode():
            losses = [
                float(model(**{k: v.to(backend.device) for k, v in _pair_batch(tokenizer, subset[i : i + batch_size]).items()}).loss)
                for i in range(0, len(subset), batch_size)
            ]
        return float(np.mean(losses))

    trainer, history = train(
        model,
        train_pairs,
        val_pairs,
        collate=lambda batch: _pair_batch(tokenizer, batch),
        metric="loss",
        greater_is_better=False,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        patience=patience,
        max_steps=max_steps,
        seed=seed,
        on_step=on_step,
    )
    model = trainer.model
    evaluations = [row for row in history if "val_loss" in row]
    best = min(evaluations, key=lambda row: row["val_loss"]) if evaluations else {"epoch": 0, "val_loss": mean_loss(val_pairs)}
    adapter = Path(out_dir) / "adapter"
    model.save_pretrained(adapter)
    tokenizer.save_pretrained(adapter)
    test_loss = mean_loss(test_pairs)
    summary = {
        "base_model": backend.model_path,
        "adapter": str(adapter),
        "lora_r": lora_r,
        "split": {"train": len(train_pairs), "validation": len(val_pairs), "test": len(test_pairs)},
        "best_epoch": best["epoch"],
        "validation_loss": round(best["val_loss"], 4),
        "test_loss": round(test_loss, 4),
        "test_perplexity": round(math.exp(test_loss), 2),
        "seconds": round(time.perf_counter() - started, 1),
        "history": history,
    }
    (Path(out_dir) / CAUSAL_FILE).write_text(json.dumps({k: v for k, v in summary.items() if k != "history"}, indent=2))
    return summary
