"""Model lab: measure classifiers on your own labelled data, and fine-tune one with LoRA.

Metrics are scikit-learn's. The fine-tuned sentiment model is the embedded MiniLM encoder with
LoRA matrices (peft) on its attention's query and value projections, and a linear head over the
mean-pooled embedding plus VADER's lexicon scores (the same two views as the embedded head). The
split is stratified train / validation / test; training stops early on validation macro F1.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from core.db import LabRun, session_scope
from core.ingest import IngestError, Table

LAB_FILE = "lab_model.json"
POSITIVE = {"1", "pos", "positive", "good", "+"}
NEGATIVE = {"0", "neg", "negative", "bad", "-"}


# --- labels and metrics ------------------------------------------------------------------------


def normalise_labels(values: pd.Series) -> pd.Series:
    """Gold labels as negative / neutral / positive, from words, 0/1, or 1-5 star ratings."""
    text = values.astype(str).str.strip().str.lower()
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and not set(numeric.unique()) <= {0, 1}:
        if numeric.between(1, 5).all():
            return pd.Series(np.where(numeric <= 2, "negative", np.where(numeric >= 4, "positive", "neutral")), index=values.index)
        raise IngestError("The label column holds numbers that are neither 0/1 nor 1-5 star ratings.")
    mapped = text.map(lambda v: "positive" if v in POSITIVE or v == "1.0" else "negative" if v in NEGATIVE or v == "0.0" else "neutral" if v == "neutral" else None)
    if mapped.isna().any():
        bad = text[mapped.isna()].iloc[0]
        raise IngestError(f"The label '{bad}' is not one Mercury reads: use positive/negative/neutral, 1/0, or 1-5 stars.")
    return mapped


def _columns(table: Table, *columns: str) -> pd.DataFrame:
    for column in columns:
        if column not in table.frame.columns:
            raise IngestError(f"There is no column '{column}': the file has {', '.join(map(str, table.frame.columns))}.")
    frame = table.frame[list(columns)].dropna()
    frame = frame[frame[columns[0]].astype(str).str.strip() != ""]
    if frame.empty:
        raise IngestError("The file holds no row with both columns filled.")
    return frame.astype(str)


def labelled_rows(table: Table, text_column: str, label_column: str) -> tuple[list[str], list[str]]:
    frame = _columns(table, text_column, label_column)
    if len(frame) < 2:
        raise IngestError("The file holds fewer than two labelled rows.")
    return frame[text_column].tolist(), normalise_labels(frame[label_column]).tolist()


def metrics(truth: Sequence[str], predicted: Sequence[str]) -> dict:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)), 4),
        "per_class": {
            label: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "labels": labels,
        "confusion": confusion_matrix(truth, predicted, labels=labels).tolist(),
    }


def predictions(classifier, texts: Sequence[str], truth: Sequence[str]) -> list[str]:
    """The classifier's labels; against binary gold labels a score of 0 or more reads positive."""
    scored = classifier.classify(list(texts))
    if "neutral" not in set(truth):
        return ["positive" if s.score >= 0 else "negative" for s in scored]
    return [s.sentiment for s in scored]


def _save_run(task: str, source: str, result: dict) -> dict:
    keep = {k: result.get(k) for k in ("accuracy", "macro_f1", "bleu", "rouge_l")}
    with session_scope() as session:
        session.add(LabRun(task=task, input=source, model=result["model"], n=result["n"], rows_per_s=result["rows_per_s"], details=json.dumps(result), **keep))
        session.commit()
    return result


def evaluate(table: Table, text_column: str, label_column: str, classifier, *, name: str = "") -> dict:
    """Run one sentiment classifier on every labelled row; the run is saved for comparison over time."""
    texts, truth = labelled_rows(table, text_column, label_column)
    started = time.perf_counter()
    predicted = predictions(classifier, texts, truth)
    seconds = time.perf_counter() - started
    result = metrics(truth, predicted) | {"rows_per_s": round(len(texts) / max(seconds, 1e-9), 1), "model": classifier.model_id}
    return _save_run("sentiment", name or table.source, result)


def evaluate_triage(table: Table, text_column: str, label_column: str, *, spec=None, name: str = "") -> dict:
    """Email triage against labelled intents: the embedded classifier and rules, or a model."""
    from core.email import INTENTS, ParsedEmail, triage_many

    frame = _columns(table, text_column, label_column)
    truth = frame[label_column].str.strip().str.lower().tolist()
    unknown = sorted(set(truth) - set(INTENTS))
    if unknown:
        raise IngestError(f"The label '{unknown[0]}' is not an intent: use {', '.join(INTENTS)}.")
    started = time.perf_counter()
    predicted = [t.intent for t in triage_many([ParsedEmail(body=t) for t in frame[text_column]], spec)]
    seconds = time.perf_counter() - started
    model = "embeddings + rules" if spec is None or spec.kind == "embedded" else f"{spec.kind}:{spec.model}"
    result = metrics(truth, predicted) | {"rows_per_s": round(len(truth) / max(seconds, 1e-9), 1), "model": model}
    return _save_run("triage", name or table.source, result)


def evaluate_generation(table: Table, prompt_column: str, reference_column: str, *, spec=None, name: str = "") -> dict:
    """Generate an answer per prompt and score it against the reference: corpus BLEU (sacrebleu)
    and mean ROUGE-1/2/L F1 (rouge-score)."""
    import sacrebleu

    from core.content import overlap_scores
    from core.llm import complete_many, resolve_spec

    spec = spec or resolve_spec()
    frame = _columns(table, prompt_column, reference_column)
    started = time.perf_counter()
    replies = complete_many([[{"role": "user", "content": p}] for p in frame[prompt_column]], spec=spec, page="lab", max_tokens=200, temperature=0)
    seconds = time.perf_counter() - started
    outputs = [r.text for r in replies]
    references = frame[reference_column].tolist()
    rows = [overlap_scores(o, r) for o, r in zip(outputs, references)]
    result = {
        "n": len(outputs),
        "model": f"{spec.kind}:{spec.model}",
        "bleu": round(sacrebleu.corpus_bleu(outputs, [references]).score, 2),
        "rouge1": round(float(np.mean([r["rouge1"] for r in rows])), 4),
        "rouge2": round(float(np.mean([r["rouge2"] for r in rows])), 4),
        "rouge_l": round(float(np.mean([r["rougeL"] for r in rows])), 4),
        "rows_per_s": round(len(outputs) / max(seconds, 1e-9), 2),
        "prompts": frame[prompt_column].tolist(),
        "references": references,
        "outputs": outputs,
    }
    return _save_run("generation", name or table.source, result)


def perplexity(text: str, *, spec=None) -> dict:
    """Perplexity of a model Mercury runs itself (embedded or local) on a text."""
    from core.llm import LLMError, get_backend, resolve_spec

    spec = spec or resolve_spec()
    backend = get_backend(spec)
    if not hasattr(backend, "perplexity"):
        raise LLMError("Perplexity needs a model Mercury runs itself (Embedded or Local): a hosted API does not return the probabilities of a given text.")
    try:
        value, tokens = backend.perplexity(text)
    except ValueError as error:
        raise IngestError(str(error)) from error
    return {"model": f"{spec.kind}:{spec.model}", "perplexity": round(value, 2), "tokens": tokens}


def runs_frame() -> pd.DataFrame:
    from sqlmodel import select

    columns = ["id", "created_at", "task", "input", "model", "n", "accuracy", "macro_f1", "bleu", "rouge_l", "rows_per_s"]
    with session_scope() as session:
        rows = session.exec(select(LabRun).order_by(LabRun.created_at.desc(), LabRun.id.desc())).all()
    return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], columns=columns)


# --- LoRA fine-tuning ----------------------------------------------------------------------------


def split(labels: Sequence[str], *, seed: int = 0, validation: float = 0.15, test: float = 0.15) -> tuple[list[int], list[int], list[int]]:
    """Stratified train / validation / test indexes."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    rest, test_index = train_test_split(index, test_size=test, stratify=labels, random_state=seed)
    train_index, val_index = train_test_split(rest, test_size=validation / (1 - test), stratify=[labels[i] for i in rest], random_state=seed)
    return sorted(train_index.tolist()), sorted(val_index.tolist()), sorted(test_index.tolist())


class LoraSentiment:
    """MiniLM with LoRA adapters and a linear head over [mean-pooled embedding, VADER scores]."""

    def __init__(self, labels: Sequence[str], *, r: int = 8, alpha: int = 16, dropout: float = 0.1, adapter_dir: Path | None = None, seed: int = 0):
        import torch
        from peft import LoraConfig, PeftModel, get_peft_model
        from transformers import AutoModel, AutoTokenizer

        from core.llm.transformers_backend import quiet_transformers
        from core.sentiment import minilm_dir

        quiet_transformers()
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")  # peft asks transformers a deprecated question
        torch.manual_seed(seed)
        self.torch, self.labels, self.r = torch, list(labels), r
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
        base = AutoModel.from_pretrained(minilm_dir())
        if adapter_dir is None:
            self.encoder = get_peft_model(base, LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=["query", "value"]))
        else:
            self.encoder = PeftModel.from_pretrained(base, adapter_dir)
        self.head = torch.nn.Linear(base.config.hidden_size + 3, len(self.labels))
        self.encoder.to(self.device)
        self.head.to(self.device)

    def logits(self, texts: Sequence[str]):
        from core.sentiment import vader_features

        torch = self.torch
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt").to(self.device)
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)
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
    from core.sentiment import get_classifier

    if len(set(labels)) < 2:
        raise IngestError("Fine-tuning needs at least two different labels.")
    if min(pd.Series(labels).value_counts()) < 4:
        raise IngestError("Every label needs at least four rows, so train, validation and test each see it.")
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
        model.encoder, optimizer, epochs=epochs, patience=patience, max_steps=max_steps, on_step=on_step, validate=validate,
        batches=batches,
        step_loss=lambda batch: torch.nn.functional.cross_entropy(model.logits([texts[i] for i in batch]), target[batch].to(model.device)),
        snapshot=lambda: ({k: v.detach().clone() for k, v in model.encoder.state_dict().items() if "lora_" in k}, {k: v.detach().clone() for k, v in model.head.state_dict().items()}),
    )
    best_state = training.state
    model.encoder.load_state_dict(best_state[0], strict=False)
    model.head.load_state_dict(best_state[1])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.encoder.save_pretrained(out / "adapter")
    torch.save(model.head.state_dict(), out / "head.pt")
    weights = b"".join(t.detach().cpu().numpy().tobytes() for t in best_state[1].values())
    model_id = f"lora:minilm-r{lora_r}-{hashlib.sha256(weights).hexdigest()[:10]}"
    test_texts, test_truth = [texts[i] for i in test_index], [labels[i] for i in test_index]
    result = FineTuneResult(
        out_dir=str(out), model_id=model_id, split={"train": len(train_index), "validation": len(val_index), "test": len(test_index)},
        epochs_run=training.epochs_run, best_epoch=training.best_epoch, history=training.history, validation=training.validation,
        test=metrics(test_truth, model.predict(test_texts)),
        baseline_test=metrics(test_truth, predictions(get_classifier("embedded"), test_texts, test_truth)),
    )
    result.seconds = round(time.perf_counter() - started, 1)
    (out / LAB_FILE).write_text(json.dumps({"model_id": model_id, "labels": classes, "lora_r": lora_r, "learning_rate": learning_rate, "best_epoch": training.best_epoch, "split": result.split, "validation": result.validation, "test": result.test, "baseline_test": result.baseline_test, "seconds": result.seconds}, indent=2))
    return result


class LoraClassifier:
    """A saved fine-tune as a Sentiment classifier: score = P(positive) - P(negative)."""

    def __init__(self, model_dir: str | Path):
        import torch

        info = json.loads((Path(model_dir) / LAB_FILE).read_text())
        self.model_id, labels = info["model_id"], info["labels"]
        self.model = LoraSentiment(labels, r=info["lora_r"], adapter_dir=Path(model_dir) / "adapter")
        self.model.head.load_state_dict(torch.load(Path(model_dir) / "head.pt", map_location=self.model.device))

    def classify(self, texts: Sequence[str]):
        from core.sentiment import Scored, label_for

        probabilities = self.model.predict_proba(list(texts))
        labels = self.model.labels
        results = []
        for p in probabilities:
            score = float(p[labels.index("positive")] if "positive" in labels else 0) - float(p[labels.index("negative")] if "negative" in labels else 0)
            label = labels[int(p.argmax())] if "neutral" in labels else label_for(score)
            results.append(Scored(label, round(score, 4), round(float(p.max()), 4)))
        return results


def models_dir() -> Path:
    from core.config import data_dir

    return data_dir() / "models"


def saved_models() -> dict[str, Path]:
    """Fine-tuned models saved under the data folder, by model id (newest first)."""
    found = sorted(models_dir().glob(f"*/{LAB_FILE}"), key=lambda p: p.stat().st_mtime, reverse=True)
    return {json.loads(p.read_text())["model_id"]: p.parent for p in found}


# --- LoRA on the causal LM: approved replies and saved content as instruction pairs -----------------

CAUSAL_FILE = "lab_causal.json"


def instruction_pairs() -> list[dict]:
    """Approved email replies (the email, then the reply a person approved) and saved content
    (the brief, then the text) as instruction and response pairs."""
    from sqlmodel import select

    from core.db import ContentPiece, EmailMessage

    with session_scope() as session:
        emails = session.exec(select(EmailMessage).where(EmailMessage.status == "approved")).all()
        pieces = session.exec(select(ContentPiece)).all()
    pairs = [{"instruction": f"Reply to this customer email.\nSubject: {e.subject}\n\n{e.body}", "response": e.approved_text} for e in emails if e.approved_text.strip()]
    pairs += [{"instruction": f"Write a {p.kind}{' post for ' + p.platform if p.platform else ''} about: {p.topic}", "response": p.text} for p in pieces if p.text.strip()]
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

    from core.llm import LLMError, get_backend, resolve_spec

    if len(pairs) < 6:
        raise IngestError("Fine-tuning the language model needs at least six pairs: approve more replies or save more content.")
    backend = get_backend(spec or resolve_spec())
    if not hasattr(backend, "model_path"):
        raise LLMError("LoRA fine-tuning needs a model Mercury runs itself (Embedded or Local), not a hosted API.")
    started = time.perf_counter()
    torch.manual_seed(seed)
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_val = n_test = max(1, len(pairs) // 10)
    test_pairs, val_pairs, train_pairs = ([pairs[i] for i in order[:n_test]], [pairs[i] for i in order[n_test : n_test + n_val]], [pairs[i] for i in order[n_test + n_val :]])
    tokenizer = backend.tokenizer
    base = AutoModelForCausalLM.from_pretrained(backend.model_path, dtype=backend.model.dtype).to(backend.device)  # a copy: the shared model keeps serving
    model = get_peft_model(base, LoraConfig(task_type="CAUSAL_LM", r=lora_r, lora_alpha=2 * lora_r, lora_dropout=0.05, target_modules=["q_proj", "v_proj"]))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=learning_rate)

    def mean_loss(subset: Sequence[dict]) -> float:
        model.eval()
        with torch.inference_mode():
            losses = [float(model(**{k: v.to(backend.device) for k, v in _pair_batch(tokenizer, subset[i : i + batch_size]).items()}).loss) for i in range(0, len(subset), batch_size)]
        return float(np.mean(losses))

    rng = np.random.default_rng(seed)

    def batches():
        shuffled = [train_pairs[i] for i in rng.permutation(len(train_pairs))]
        return (shuffled[start : start + batch_size] for start in range(0, len(shuffled), batch_size))

    def validate():
        loss = mean_loss(val_pairs)
        return -loss, {"val_loss": round(loss, 4)}, loss

    training = train_with_early_stopping(
        model, optimizer, epochs=epochs, patience=patience, max_steps=max_steps, on_step=on_step, validate=validate, batches=batches,
        step_loss=lambda batch: model(**{k: v.to(backend.device) for k, v in _pair_batch(tokenizer, batch).items()}).loss,
        snapshot=lambda: {k: v.detach().clone() for k, v in model.state_dict().items() if "lora_" in k},
    )
    model.load_state_dict(training.state, strict=False)
    adapter = Path(out_dir) / "adapter"
    model.save_pretrained(adapter)
    tokenizer.save_pretrained(adapter)
    test_loss = mean_loss(test_pairs)
    summary = {
        "base_model": backend.model_path, "adapter": str(adapter), "lora_r": lora_r, "split": {"train": len(train_pairs), "validation": len(val_pairs), "test": len(test_pairs)},
        "best_epoch": training.best_epoch, "validation_loss": round(training.validation, 4), "test_loss": round(test_loss, 4), "test_perplexity": round(math.exp(test_loss), 2),
        "seconds": round(time.perf_counter() - started, 1), "history": training.history,
    }
    (Path(out_dir) / CAUSAL_FILE).write_text(json.dumps({k: v for k, v in summary.items() if k != "history"}, indent=2))
    return summary
