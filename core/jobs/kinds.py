"""What each kind of job does: a function of the stored job and a `report(done, total, sentence)`
that records progress (and raises JobCancelled at the next chunk after a person cancelled), returning
the job's result as JSON. Each resumes from what it saved when it is run again after its worker died:
a file's dataset is found again by its fingerprint and only its unscored rows are scored; a pull
starts after the last UID it saved."""
from __future__ import annotations

from typing import Callable

from core.db import Job
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


def mailbox_pull(job: Job, report: Report) -> dict:
    from core.brand import current_brand
    from core.mail.mailbox import pull

    def progress(done: int, total: int) -> None:
        report(done, total, Msg("Read {done} of {total} messages", done=done, total=total))

    return pull(current_brand(), progress=progress).as_dict()


def mailbox_push(job: Job, report: Report) -> dict:
    from core.brand import current_brand
    from core.mail.mailbox import push

    return push(current_brand(), all_drafts=bool(job.inputs.get("all_drafts"))).as_dict()


KINDS: dict[str, Callable[[Job, Report], dict]] = {
    "sentiment": analyse_file,
    "score": score,
    "mailbox_pull": mailbox_pull,
    "mailbox_push": mailbox_push,
}
