"""Review datasets: a file's rows stored unscored, analysed chunk by chunk (sentiment, language and
themes; a run resumes where it stopped), every score cached per model and text, and exported with
every input column."""
from __future__ import annotations

import hashlib
import json
import time
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, update
from sqlmodel import select

from core.classifiers import get_classifier
from core.columns import Mapping, resolve_mapping
from core.db import Dataset, Review, SentimentCache, insert_ignoring_duplicates, session_scope, utcnow
from core.errors import IngestError, PartialBatchError
from core.i18n import N_, LanguageCounts, Msg, render
from core.ingest import Table
from core.llm.base import Progress
from core.llm.bulk import saved_after_stop
from core.models.sentiment import LABELS, Scored
from core.ratings import rating_value
from core.sentiment.checks import agreement_json, agreement_warning, rating_agreement
from core.sentiment.themes import themes_for
from core.text import READS_WELL, UNKNOWN, detect_languages

CHUNK_ROWS = 512


# --- scoring with a cache ----------------------------------------------------------------------


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def cached_scores(model_id: str, hashes: Sequence[str]) -> dict[str, Scored]:
    """The scores a model gave before, by text hash."""
    known: dict[str, Scored] = {}
    with session_scope() as session:
        unique = list(set(hashes))
        for start in range(0, len(unique), 500):
            rows = session.exec(select(SentimentCache).where(SentimentCache.model == model_id, SentimentCache.text_hash.in_(unique[start : start + 500])))
            known.update({r.text_hash: Scored(r.sentiment, r.score, r.confidence) for r in rows})
    return known


def classify_cached(texts: Sequence[str], classifier) -> list[Scored]:
    """Scores for texts, reusing any the same model gave before; new scores are stored."""
    hashes = [text_hash(t) for t in texts]
    known = cached_scores(classifier.model_id, hashes)
    todo = {h: t for h, t in zip(hashes, texts) if h not in known}
    if todo:
        try:
            fresh = dict(zip(todo, classifier.classify(list(todo.values()))))
        except PartialBatchError as error:  # scores paid for before a batch stopped are kept for the rerun
            order = list(todo)
            kept = {order[i]: scored for i, scored in error.finished.items()}
            _store_scores(classifier.model_id, kept)
            raise saved_after_stop(error, len(kept), N_("scores")) from error
        _store_scores(classifier.model_id, fresh)
        known.update(fresh)
    return [known[h] for h in hashes]


def _store_scores(model_id: str, scores: dict[str, Scored]) -> None:
    if not scores:
        return
    with session_scope() as session:  # another run may be storing the same texts right now
        insert_ignoring_duplicates(
            session,
            SentimentCache,
            [{"model": model_id, "text_hash": h, "sentiment": s.sentiment, "score": s.score, "confidence": s.confidence} for h, s in scores.items()],
        )
        session.commit()


# --- datasets ----------------------------------------------------------------------------------


def table_fingerprint(table: Table, mapping: dict[str, str | None], scored_by: str) -> str:
    """The same rows, read with the same column roles, for the same classifier: one dataset."""
    digest = hashlib.sha256()
    digest.update(json.dumps([list(map(str, table.frame.columns)), mapping, scored_by], sort_keys=True).encode())
    digest.update(pd.util.hash_pandas_object(table.frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:40]


def create_dataset(table: Table, mapping: dict[str, str | None], name: str | None = None, *, scored_by: str = "") -> int:
    """Store the file's rows (unscored) so scoring can resume after any interruption.

    The dataset and its rows are written in one transaction, so a crash leaves all or nothing; the
    same file stored again (by a rerun, or by two people at once) returns the dataset already there.
    """
    text_column = mapping.get("text")
    if not text_column or text_column not in table.frame.columns:
        raise IngestError(Msg("{source} needs a text column to analyse.", source=table.source))
    frame = table.frame
    texts = frame[text_column].astype(str)  # stored as given: exports must show what the file said
    keep = texts.str.strip().str.len() > 0
    table.skip(N_("empty text"), int((~keep).sum()))
    roles = {role: column for role, column in mapping.items() if column and column in frame.columns}
    dates = pd.to_datetime(frame[roles["date"]], errors="coerce", utc=True, format="mixed") if "date" in roles else None
    if dates is not None:
        table.skip(N_("date not understood (kept, without a date)"), int((dates.isna() & keep & (frame[roles['date']].astype(str).str.strip() != "")).sum()))
    other_columns = [c for c in frame.columns if c not in roles.values()]
    fingerprint = table_fingerprint(table, roles, scored_by)
    with session_scope() as session:
        dataset_id = insert_ignoring_duplicates(
            session,
            Dataset,
            [{
                "name": name or table.source, "source": table.source, "rows": int(keep.sum()), "skipped": table.skipped,
                "skip_reasons": dict(table.skip_reasons), "mapping": dict(roles),
                "columns": list(map(str, frame.columns)),
                "calibration": None,  # said, not left out: a core insert applies no model default, and the column is NOT NULL (JSON null)
                "fingerprint": fingerprint, "created_at": utcnow(),
            }],
            returning=Dataset.id,
        ).scalar()
        if dataset_id is None:  # stored before (or by another run just now): resume it
            session.rollback()
            return session.exec(select(Dataset.id).where(Dataset.fingerprint == fingerprint)).one()
        records = []
        for index in np.flatnonzero(keep.to_numpy()):
            row = frame.iloc[index]
            records.append(
                {
                    "dataset_id": dataset_id,
                    "row_index": int(index),
                    "text": texts.iloc[index],
                    "date": None if dates is None or pd.isna(dates.iloc[index]) else dates.iloc[index].to_pydatetime(),
                    "product": str(row[roles["product"]]).strip() if "product" in roles else "",
                    "channel": str(row[roles["channel"]]).strip() if "channel" in roles else "",
                    "rating": rating_value(row[roles["rating"]]) if "rating" in roles else None,
                    "external_id": str(row[roles["id"]]) if "id" in roles else "",
                    "extra": {c: _cell(row[c]) for c in other_columns},
                }
            )
            if len(records) >= 5000:
                session.execute(insert(Review), records)
                records = []
        if records:
            session.execute(insert(Review), records)
        session.commit()
    return dataset_id


def pending(dataset_id: int):
    """The condition of a review not yet fully analysed: no sentiment, or (stored before Mercury read
    languages) no language; its theme comes once every review of the dataset has these."""
    return (Review.dataset_id == dataset_id) & (Review.sentiment.is_(None) | Review.language.is_(None))


def theme_dataset(dataset_id: int) -> int:
    """Give every review of the dataset without one its theme (core.sentiment.themes): the themes
    found before in the same scope (the dataset's name), or new ones found in these reviews."""
    with session_scope() as session:
        rows = session.exec(
            select(Review.id, Review.text, Review.language, Review.sentiment).where(Review.dataset_id == dataset_id, Review.themes.is_(None))
        ).all()
        scope = session.get(Dataset, dataset_id).name
    if not rows:
        return 0
    names = themes_for(scope, [r.text for r in rows], [r.language or UNKNOWN for r in rows], [r.sentiment for r in rows])
    with session_scope() as session:
        session.execute(update(Review), [{"id": r.id, "themes": name} for r, name in zip(rows, names)])
        session.commit()
    return len(rows)


def score_dataset(dataset_id: int, classifier, progress: Progress | None = None) -> dict:
    """Score every unscored review, and tell its language and themes, chunk by chunk, committing
    each chunk: a restart resumes where it stopped. A review scored before Mercury read languages
    and themes keeps its score (and the model that gave it) and gains only those."""
    started = time.perf_counter()
    with session_scope() as session:
        total = session.exec(select(func.count()).select_from(Review).where(Review.dataset_id == dataset_id)).one()
        done = total - session.exec(select(func.count()).select_from(Review).where(pending(dataset_id))).one()
        if session.exec(select(func.count()).select_from(Review).where(Review.dataset_id == dataset_id, Review.sentiment.is_(None))).one():
            dataset = session.get(Dataset, dataset_id)
            dataset.classifier = classifier.model_id
            session.add(dataset)
            session.commit()
    scored_now = 0
    if progress:
        progress(done, total)
    while True:
        with session_scope() as session:
            batch = session.exec(select(Review.id, Review.text, Review.sentiment).where(pending(dataset_id)).order_by(Review.id).limit(CHUNK_ROWS)).all()
        if not batch:
            break
        texts = [text for _, text, _ in batch]
        unscored = [i for i, (_, _, sentiment) in enumerate(batch) if sentiment is None]
        results = dict(zip(unscored, classify_cached([texts[i] for i in unscored], classifier)))
        rows = [{"id": rid, "language": code} for (rid, _, _), code in zip(batch, detect_languages(texts))]
        for i, r in results.items():
            rows[i].update(sentiment=r.sentiment, score=r.score, confidence=r.confidence, model=classifier.model_id)
        with session_scope() as session:
            # One bulk UPDATE per shape of row: newly scored ones, and older ones gaining a language.
            for same in ([rows[i] for i in results], [row for i, row in enumerate(rows) if i not in results]):
                if same:
                    session.execute(update(Review), same)
            session.commit()
        done += len(batch)
        scored_now += len(batch)
        if progress:
            progress(done, total)
    theme_dataset(dataset_id)
    return {"rows": total, "scored_now": scored_now, "seconds": time.perf_counter() - started}


def list_datasets() -> pd.DataFrame:
    with session_scope() as session:
        rows = [d.model_dump() for d in session.exec(select(Dataset).order_by(Dataset.created_at.desc()))]
    columns = ["id", "name", "created_at", "source", "rows", "skipped", "skip_reasons", "mapping", "columns", "classifier", "calibration"]
    return pd.DataFrame(rows, columns=columns)


def get_dataset(dataset_id: int) -> Dataset:
    with session_scope() as session:
        dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise IngestError(Msg("There is no dataset {dataset_id}.", dataset_id=str(dataset_id)))
    return dataset


def _cell(value):
    """A cell as JSON holds it: an empty cell is null (PostgreSQL's JSON has no NaN)."""
    if isinstance(value, float) and np.isnan(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def describe_dataset(dataset: Dataset) -> Msg:
    """Where a dataset came from, what scored it and what was skipped, in a sentence or two."""
    reasons = dataset.skip_reasons or {}
    skipped = Msg("Skipped when reading: {reasons}.", reasons=", ".join(f"{n:,} {r}" for r, n in reasons.items())) if reasons else Msg("No rows skipped.")
    return Msg(
        "Source: {source}. Classifier: {classifier}. {skipped}", source=dataset.source, classifier=dataset.classifier or Msg("not run yet"), skipped=skipped
    )


def rename_dataset(dataset_id: int, name: str) -> None:
    with session_scope() as session:
        dataset = session.get(Dataset, dataset_id)
        dataset.name = name.strip() or dataset.name
        session.add(dataset)
        session.commit()


def delete_dataset(dataset_id: int) -> None:
    with session_scope() as session:
        session.execute(delete(Review).where(Review.dataset_id == dataset_id))
        session.execute(delete(Dataset).where(Dataset.id == dataset_id))
        session.commit()


REVIEW_COLUMNS = ["id", "row_index", "text", "date", "product", "channel", "rating", "external_id", "extra"]
REVIEW_COLUMNS += ["sentiment", "score", "confidence", "model", "language", "themes"]
# The last frames read, by database and dataset, with the state they were read at: the dashboard
# reads a dataset on every filter change, and 100,000 rows take seconds to read and seconds more to build.
_frames: dict[tuple[str, int], tuple[tuple, pd.DataFrame]] = {}
FRAMES_KEPT = 4


def _state(session, dataset_id: int) -> tuple:
    """What changes when rows are added, scored, given languages or themes, or recalibrated (by any process)."""
    scores = select(
        func.count(), func.count(Review.sentiment), func.count(Review.language), func.count(Review.themes), func.sum(Review.score), func.max(Review.id)
    ).where(Review.dataset_id == dataset_id)
    return tuple(session.exec(scores).one())


def reviews_frame(dataset_id: int) -> pd.DataFrame:
    """Every review of the dataset as a frame (a copy: callers may change it), read again only when its rows changed."""
    with session_scope() as session:
        key, state = (str(session.get_bind().url), dataset_id), _state(session, dataset_id)
        kept = _frames.get(key)
        if kept and kept[0] == state:
            return kept[1].copy()
        rows = session.exec(select(*[getattr(Review, c) for c in REVIEW_COLUMNS]).where(Review.dataset_id == dataset_id).order_by(Review.row_index)).all()
    frame = pd.DataFrame(rows, columns=REVIEW_COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    if len(_frames) >= FRAMES_KEPT:
        _frames.pop(next(iter(_frames)))
    _frames[key] = (state, frame)
    return frame.copy()


def export_frame(dataset_id: int) -> pd.DataFrame:
    """Every input column, in the file's order, plus sentiment, score, confidence and model."""
    dataset = get_dataset(dataset_id)
    mapping = dataset.mapping
    reviews = reviews_frame(dataset_id)
    extras = pd.DataFrame(list(reviews["extra"]), index=reviews.index)
    original = {"text": "text", "product": "product", "channel": "channel", "id": "external_id"}
    for role, column in mapping.items():
        if role in original:
            extras[column] = reviews[original[role]]
        elif role == "rating":
            extras[column] = reviews["rating"]
        elif role == "date":
            extras[column] = reviews["date"].dt.strftime("%Y-%m-%d %H:%M:%S").where(reviews["date"].notna(), "")
    ordered = [c for c in dataset.columns if c in extras.columns]
    out = extras[ordered].copy()
    for column in ("sentiment", "score", "confidence", "model", "language", "themes"):
        out[column] = reviews[column]
    return out


def analyse_table(
    table: Table,
    *,
    mapping: Mapping | None = None,
    classifier=None,
    name: str | None = None,
    progress: Progress | None = None,
    on_stored: Callable[[int], None] | None = None,
    language: str = "en",
) -> tuple[int, dict]:
    """Store, score and summarise one file in a single call (the CLI and the page's upload path).
    Without a `mapping` the columns' roles are read from the file (core.columns), and a text column
    that is only a guess stops here. `on_stored` hears the dataset's id as soon as its rows are
    saved, before the scoring that may fail. The summary checks itself against the stars."""
    mapping = mapping or resolve_mapping(table.frame, table.source)
    columns = mapping.columns()
    classifier = classifier or get_classifier()
    dataset_id = create_dataset(table, columns, name, scored_by=classifier.model_id)
    if on_stored:
        on_stored(dataset_id)
    started = time.perf_counter()
    run = score_dataset(dataset_id, classifier, progress)
    counts, languages = label_counts(dataset_id), language_counts(dataset_id)
    elapsed = time.perf_counter() - started
    check = rating_agreement(reviews_frame(dataset_id)) if columns.get("rating") else None
    notice = language_notice(languages)
    warnings = [render(w, language) for w in (agreement_warning(check, columns["text"]), notice, *mapping.warnings()) if w]
    return dataset_id, {
        "dataset_id": dataset_id,
        "rows": run["rows"],
        "skipped": table.skipped,
        "skip_reasons": table.skip_reasons,
        "skip_lines": table.skip_lines,
        "headerless": table.headerless,
        "mapping": {role: column for role, column in columns.items() if column},
        "mapping_confidence": mapping.confidences(),
        "counts": counts,
        "languages": languages,
        "language_notice": render(notice, language) if notice else None,
        "rating_agreement": agreement_json(check),
        "warnings": warnings,
        "model": classifier.model_id,
        "rows_per_s": round(run["rows"] / elapsed, 1) if elapsed > 0 else None,
    }


def distinct_values(dataset_id: int, column: str) -> list[str]:
    """The products (or channels) a dataset names, most reviewed first: what a filter offers."""
    field = {"product": Review.product, "channel": Review.channel}[column]
    with session_scope() as session:
        rows = session.exec(select(field, func.count()).where(Review.dataset_id == dataset_id, field != "").group_by(field).order_by(func.count().desc())).all()
    return [value for value, _ in rows]


def language_counts(dataset_id: int) -> dict[str, int]:
    """Reviews per language, commonest first."""
    with session_scope() as session:
        rows = session.exec(select(Review.language, func.count()).where(Review.dataset_id == dataset_id).group_by(Review.language)).all()
    return {code or UNKNOWN: int(n) for code, n in sorted(rows, key=lambda row: -row[1])}


def language_notice(counts: dict[str, int]) -> Msg | None:
    """One sentence when a noticeable share of reviews is in a language Mercury is not measured on
    (or could not tell), so nobody reads those scores as if they were as sure as the rest."""
    total = sum(counts.values())
    doubtful = {code: n for code, n in counts.items() if code not in READS_WELL}
    share = sum(doubtful.values()) / total if total else 0
    if share < 0.02:
        return None
    named = LanguageCounts(dict(sorted(doubtful.items(), key=lambda item: -item[1])[:4]))
    return Msg(
        "{share}% of these reviews are in languages Mercury's accuracy is not measured on: {languages}. "
        "It reads them through its multilingual model, but check a sample of their scores, or score them with the local or API backend.",
        share=round(100 * share),
        languages=named,
    )


def label_counts(dataset_id: int) -> dict[str, int]:
    with session_scope() as session:
        rows = session.exec(select(Review.sentiment, func.count()).where(Review.dataset_id == dataset_id).group_by(Review.sentiment)).all()
    counts = {label: 0 for label in LABELS}
    counts.update({label: int(n) for label, n in rows if label})
    return counts
