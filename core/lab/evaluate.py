"""Measure models on your own labelled data: sentiment classifiers, email triage and text
generation. Metrics are scikit-learn's (BLEU is sacrebleu's, ROUGE rouge-score's); every run is
saved, to compare models and runs over time."""
from __future__ import annotations

import re
import time
from typing import Sequence

import numpy as np
import pandas as pd
from sqlmodel import select

from core.classifiers import LLM_CHOICE, classifier_for
from core.content.checks import overlap_scores
from core.db import LabRun, session_scope, utcnow
from core.errors import IngestError, LLMError
from core.i18n import Msg
from core.ingest import Table
from core.llm import complete_many, get_backend, resolve_spec
from core.mail.reading import ParsedEmail
from core.mail.triage import triage_many
from core.models.intents import INTENTS
from core.models.sentiment import rating_classes
from core.usage import calls_frame

POSITIVE = {"1", "pos", "positive", "good", "+"}
NEGATIVE = {"0", "neg", "negative", "bad", "-"}


# --- labels and metrics ------------------------------------------------------------------------


def normalise_labels(values: pd.Series) -> pd.Series:
    """Gold labels as negative / neutral / positive, from words, 0/1, or 1-5 star ratings."""
    text = values.astype(str).str.strip().str.lower()
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and not set(numeric.unique()) <= {0, 1}:
        if numeric.between(1, 5).all():
            return rating_classes(numeric).fillna("neutral")
        raise IngestError(Msg("The label column holds numbers that are neither 0/1 nor 1-5 star ratings."))
    mapped = text.map(
        lambda v: "positive" if v in POSITIVE or v == "1.0" else "negative" if v in NEGATIVE or v == "0.0" else "neutral" if v == "neutral" else None
    )
    if mapped.isna().any():
        bad = text[mapped.isna()].iloc[0]
        raise IngestError(Msg("The label '{label}' is not one Mercury reads: use positive/negative/neutral, 1/0, or 1-5 stars.", label=bad))
    return mapped


def _columns(table: Table, *columns: str) -> pd.DataFrame:
    for column in columns:
        if column not in table.frame.columns:
            raise IngestError(Msg("There is no column '{column}': the file has {columns}.", column=column, columns=", ".join(map(str, table.frame.columns))))
    frame = table.frame[list(columns)].dropna()
    frame = frame[frame[columns[0]].astype(str).str.strip() != ""]
    if frame.empty:
        raise IngestError(Msg("The file holds no row with both columns filled."))
    return frame.astype(str)


def guess_columns(columns: Sequence[str]) -> tuple[str, str]:
    """(text column, label column) a labelled file most likely means, by name; first and last otherwise."""
    columns = [str(c) for c in columns]
    text = next((c for c in columns if re.search(r"text|review|sentence|comment|prompt", c, re.I)), columns[0])
    label = next((c for c in columns if c != text and re.search(r"label|sentiment|rating|stars|class|intent|reference", c, re.I)), columns[-1])
    return text, label


def labelled_rows(table: Table, text_column: str, label_column: str) -> tuple[list[str], list[str]]:
    frame = _columns(table, text_column, label_column)
    if len(frame) < 2:
        raise IngestError(Msg("The file holds fewer than two labelled rows."))
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
        session.add(LabRun(task=task, input=source, model=result["model"], n=result["n"], rows_per_s=result["rows_per_s"], details=result, **keep))
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
    frame = _columns(table, text_column, label_column)
    truth = frame[label_column].str.strip().str.lower().tolist()
    unknown = sorted(set(truth) - set(INTENTS))
    if unknown:
        raise IngestError(Msg("The label '{label}' is not an intent: use {intents}.", label=unknown[0], intents=", ".join(INTENTS)))
    started = time.perf_counter()
    predicted = [t.intent for t in triage_many([ParsedEmail(body=t) for t in frame[text_column]], spec)]
    seconds = time.perf_counter() - started
    model = "embeddings + rules" if spec is None or not spec.classifies else f"{spec.kind}:{spec.model}"
    result = metrics(truth, predicted) | {"rows_per_s": round(len(truth) / max(seconds, 1e-9), 1), "model": model}
    return _save_run("triage", name or table.source, result)


def evaluate_generation(table: Table, prompt_column: str, reference_column: str, *, spec=None, name: str = "") -> dict:
    """Generate an answer per prompt and score it against the reference: corpus BLEU (sacrebleu)
    and mean ROUGE-1/2/L F1 (rouge-score)."""
    import sacrebleu

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


def evaluate_choice(table: Table, text_column: str, label_column: str, *, task: str, choice: str, spec=None) -> dict:
    """One row of the lab's comparison: a classifier choice (core.models.sentiment.classifier_choices)
    run on the file for sentiment or triage, with what its API calls cost per 1,000 rows."""
    started = utcnow()
    if task == "triage":
        result = evaluate_triage(table, text_column, label_column, spec=spec if choice == LLM_CHOICE else None)
    else:
        result = evaluate(table, text_column, label_column, classifier_for(choice, spec))
    calls = calls_frame(since=started)
    result["cost_per_1000_usd"] = round(float(calls["cost_usd"].sum()) * 1000 / result["n"], 4) if len(calls) else 0.0
    return result


def perplexity(text: str, *, spec=None) -> dict:
    """Perplexity of a model Mercury runs itself (embedded or local) on a text."""
    spec = spec or resolve_spec()
    backend = get_backend(spec)
    if not hasattr(backend, "perplexity"):
        raise LLMError(Msg("Perplexity needs a model Mercury runs itself (Embedded or Local): a hosted API does not return the probabilities of a given text."))
    try:
        value, tokens = backend.perplexity(text)
    except ValueError as error:
        raise IngestError(str(error)) from error
    return {"model": f"{spec.kind}:{spec.model}", "perplexity": round(value, 2), "tokens": tokens}


def runs_frame() -> pd.DataFrame:
    columns = ["id", "created_at", "task", "input", "model", "n", "accuracy", "macro_f1", "bleu", "rouge_l", "rows_per_s"]
    with session_scope() as session:
        rows = session.exec(select(LabRun).order_by(LabRun.created_at.desc(), LabRun.id.desc())).all()
    return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], columns=columns)
