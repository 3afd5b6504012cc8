"""What each kind of job does: a function of the stored job and a `report(done, total, sentence)`
that records progress (and raises JobCancelled at the next chunk after a person cancelled), returning
the job's result as JSON. Each resumes from what it saved when it is run again after its worker died:
a file's dataset is found again by its fingerprint and only its unscored rows are scored; a pull
starts after the last UID it saved; a fine-tune, which saves nothing until it ends, trains again."""
from __future__ import annotations

import json
from typing import Callable

from core.db import Job
from core.errors import JobCancelled
from core.i18n import Msg

Report = Callable[[int, int, Msg], None]


def analyse_file(job: Job, report: Report) -> dict:
    from core.classifiers import get_classifier
    from core.columns import resolve_mapping
    from core.ingest import read_table
    from core.sentiment.datasets import analyse_table

    table = read_table(job.payload, job.inputs["name"])
    mapping = resolve_mapping(table.frame, table.source, dict(job.inputs.get("map") or {}))
    classifier = get_classifier(job.inputs.get("backend") or "embedded", model_dir=job.inputs.get("model_dir"))
    _, summary = analyse_table(
        table,
        mapping=mapping,
        classifier=classifier,
        progress=lambda done, total: report(done, total, Msg("scored {done} of {total}", done=done, total=total)),
        language=job.inputs.get("language", "en"),
    )
    return summary


def score(job: Job, report: Report) -> dict:
    """Score a stored dataset's unscored reviews (the Sentiment page's Analyse and Resume)."""
    from core.classifiers import classifier_for
    from core.sentiment.datasets import label_counts, score_dataset

    dataset_id = int(job.inputs["dataset_id"])
    run = score_dataset(
        dataset_id,
        classifier_for(job.inputs.get("choice", "embedded")),
        lambda done, total: report(done, total, Msg("scored {done} of {total}", done=done, total=total)),
    )
    return {"dataset_id": dataset_id, "rows": run["rows"], "counts": label_counts(dataset_id)}


def backend_inputs(spec) -> dict | None:
    """The sidebar's backend as a job carries it (never its key), or None when a worker could not
    build it again from its own configuration: a key typed into this browser session only."""
    from core.errors import MercuryError
    from core.llm import resolve_spec

    try:
        rebuilt = resolve_spec(spec.kind, model=spec.model or None, base_url=spec.base_url or None)
    except MercuryError:
        return None
    return {"backend": spec.kind, "model": spec.model, "base_url": spec.base_url} if rebuilt.api_key == spec.api_key else None


def _spec(inputs: dict):
    from core.llm import resolve_spec

    return resolve_spec(inputs.get("backend") or None, model=inputs.get("model") or None, base_url=inputs.get("base_url") or None)


def drafts(job: Job, report: Report) -> dict:
    """Draft a reply for every email still waiting for one (or those of `ids`), a chunk at a time,
    each chunk saved as it lands: run again, it drafts only those still waiting."""
    from core.brand import current_brand
    from core.mail.queue import draft_pending

    def progress(done: int, total: int) -> None:
        report(done, total, Msg("Drafted {done} of {total} (each saved as it lands)", done=done, total=total))

    return {"emails": draft_pending(current_brand(), spec=_spec(job.inputs), ids=job.inputs.get("ids"), progress=progress)}


def calibration(job: Job, report: Report) -> dict:
    """Fit a stored dataset's scores to its own star ratings, applied when it helps held-out macro F1."""
    from core.sentiment.calibration import fit_dataset

    report(0, 1, Msg("Fitting the scores to the star ratings"))
    return {"dataset_id": int(job.inputs["dataset_id"]), **fit_dataset(int(job.inputs["dataset_id"]))}


def lab_evaluation(job: Job, report: Report) -> dict:
    """The Model lab's comparison: each classifier choice run on the same labelled file (the payload)
    for `task` sentiment or triage, each run saved to the lab's history as it ends."""
    from core.ingest import read_table
    from core.lab.evaluate import evaluate_choice

    inputs = job.inputs
    table, choices, spec = read_table(job.payload, inputs["name"]), list(inputs["choices"]), _spec(inputs)
    results = []
    for done, choice in enumerate(choices):
        report(done, len(choices), Msg("Ran {done} of {total} classifiers", done=done, total=len(choices)))
        results.append(evaluate_choice(table, inputs["text_column"], inputs["label_column"], task=inputs["task"], choice=choice, spec=spec))
    return _finite({"results": results})


def report_build(job: Job, report: Report) -> dict:
    """A dataset's report for a period and filter: its files kept with the report history (and the
    chosen `format` copied to `out` when the command line asked for a file)."""
    from datetime import date
    from pathlib import Path

    from core.reports.build import build_report
    from core.reports.store import store_run

    inputs = job.inputs
    start, end = (date.fromisoformat(inputs[key]) if inputs.get(key) else None for key in ("start", "end"))
    report(0, 2, Msg("Computing the figures and asking the model for a summary"))
    built = build_report(
        int(inputs["dataset_id"]), start=start, end=end, products=inputs.get("products") or (), channels=inputs.get("channels") or (),
        spec=_spec(inputs), include_usage=inputs.get("include_usage", True), title=inputs.get("title") or None, language=inputs.get("language", "en"),
    )
    report(1, 2, Msg("Rendering PDF, DOCX, HTML and Excel"))
    run = store_run(built, dataset_id=int(inputs["dataset_id"]))
    if inputs.get("out"):
        Path(inputs["out"]).write_bytes(Path(run.files[inputs["format"]]).read_bytes())
    return {"run_id": run.id, "files": run.files, "summary_source": built.summary_source, "notes": built.notes, "out": inputs.get("out")}


def mailbox_pull(job: Job, report: Report) -> dict:
    from core.brand import current_brand
    from core.mail.mailbox import pull

    def progress(done: int, total: int) -> None:
        report(done, total, Msg("Read {done} of {total} messages", done=done, total=total))

    return pull(current_brand(), spec=_spec(job.inputs), draft=job.inputs.get("draft", True), progress=progress).as_dict()


def mailbox_push(job: Job, report: Report) -> dict:
    from core.brand import current_brand
    from core.mail.mailbox import push

    return push(current_brand(), all_drafts=bool(job.inputs.get("all_drafts"))).as_dict()


def _finite(value):
    """The result with None for NaN (a split a model could not score), which PostgreSQL's JSON refuses."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return None if isinstance(value, float) and value != value else value


def _training(report: Report) -> tuple[Callable[[dict], None], dict]:
    """A fine-tune's on_step, reporting each step, and the step it reached (for a cancel's sentence)."""
    step = {"done": 0, "total": 0}

    def on_step(row: dict) -> None:
        if "loss" in row:
            step.update(done=row["step"], total=row["steps"])
            figures = {"epoch": row["epoch"], "step": row["step"], "steps": row["steps"], "loss": f"{row['loss']:.3f}"}
            report(row["step"], row["steps"], Msg("epoch {epoch}, step {step} of {steps}: loss {loss}", **figures))

    return on_step, step


def _cancelled(step: dict) -> JobCancelled:
    return JobCancelled(Msg("Cancelled at step {done} of {total}: a fine-tune keeps nothing until it ends.", **step))


def labelled_payload(texts: list[str], labels: list[str]) -> bytes:
    """A sentiment fine-tune's rows as its job carries them."""
    return json.dumps({"texts": texts, "labels": labels}, ensure_ascii=False).encode()


def fine_tune(job: Job, report: Report) -> dict:
    """LoRA on the sentiment model from labelled rows (the payload: {"texts": [...], "labels": [...]})
    into the folder `out`."""
    from dataclasses import asdict

    from core.lab.finetune import finetune

    rows, inputs = json.loads(job.payload), job.inputs
    on_step, step = _training(report)
    try:
        result = finetune(
            rows["texts"], rows["labels"], inputs["out"], epochs=int(inputs.get("epochs", 4)), lora_r=int(inputs.get("lora_r", 8)),
            learning_rate=float(inputs.get("learning_rate") or 1e-3), on_step=on_step,
        )
    except JobCancelled as stop:
        raise _cancelled(step) from stop
    return _finite(asdict(result))


def fine_tune_lm(job: Job, report: Report) -> dict:
    """LoRA on the embedded or local language model (`backend`, `model`) from approved replies and saved content."""
    from core.lab.finetune import finetune_causal, instruction_pairs

    inputs = job.inputs
    on_step, step = _training(report)
    spec = _spec(inputs)
    try:
        result = finetune_causal(
            instruction_pairs(), inputs["out"], spec=spec, epochs=int(inputs.get("epochs", 3)), lora_r=int(inputs.get("lora_r", 8)), on_step=on_step
        )
    except JobCancelled as stop:
        raise _cancelled(step) from stop
    return _finite(result)


KINDS: dict[str, Callable[[Job, Report], dict]] = {
    "sentiment": analyse_file,
    "score": score,
    "drafts": drafts,
    "report": report_build,
    "evaluate": lab_evaluation,
    "calibrate": calibration,
    "mailbox_pull": mailbox_pull,
    "mailbox_push": mailbox_push,
    "finetune": fine_tune,
    "finetune_lm": fine_tune_lm,
}
